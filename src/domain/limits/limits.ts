// What each caller, organization, destination and user may cost per window: the counts behind every send and
// verification limit. The instance's defaults come from configuration; an organization may override each one.

/** Every limit, with the instance defaults as the configuration gives them. */
export interface Limits {
  /** Least time between two codes sent to one user on one channel. */
  sendCooldownMs: number;
  /** Codes sent to one destination (E.164 number or normalized address), whoever asks, per 10 minutes and per day. */
  sendsPerDestinationShort: number;
  sendsPerDestinationDay: number;
  /** Codes sent for the users of one organization per hour. */
  sendsPerOrganizationHour: number;
  /** Codes one caller (a user behind a token) has sent per hour. */
  sendsPerCallerHour: number;
  /** Codes judged (right or wrong) for one user per hour, on both channels together. */
  verificationsPerUserHour: number;
}

export type LimitName =
  | "send_cooldown"
  | "sends_per_destination_10m"
  | "sends_per_destination_day"
  | "sends_per_organization_hour"
  | "sends_per_caller_hour"
  | "verifications_per_user_hour";

/** The window of each limit; the count is the limit's value in Limits (the cooldown allows one per window). */
export const limitWindowMs: Readonly<Record<LimitName, (limits: Limits) => number>> = {
  send_cooldown: (limits) => limits.sendCooldownMs,
  sends_per_destination_10m: () => 10 * 60_000,
  sends_per_destination_day: () => 24 * 3_600_000,
  sends_per_organization_hour: () => 3_600_000,
  sends_per_caller_hour: () => 3_600_000,
  verifications_per_user_hour: () => 3_600_000,
};

/**
 * The longest window any limit counts over (the cooldown is at most a day, by configuration and API validation):
 * counted actions older than this are no longer needed.
 */
export const longestLimitWindowMs = 24 * 3_600_000;
