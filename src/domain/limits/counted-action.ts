// An action a limit counts, and the rules it must pass: each rule is "at most `max` such actions with this key in the
// last `windowMs`". The store checks the rules and records the action in the transaction that makes the change, so
// limits hold across processes and a refused action leaves nothing behind.
import { destinationKey } from "../destination-key.js";
import type { Channel } from "../errors.js";
import { type LimitName, type Limits, limitWindowMs } from "./limits.js";

export interface CountedAction {
  action: "send" | "verify";
  userId: string;
  channel: Channel;
  /** The E.164 number or normalized address a code is sent to; absent for a verification. */
  destination?: string;
  organizationId: string;
  /** The user behind the caller's credentials. */
  callerId: string;
}

/** Which earlier actions a rule counts: those sharing this key with the new one. */
export type LimitKey =
  | { by: "user-channel"; userId: string; channel: Channel }
  | { by: "user"; userId: string }
  | { by: "destination"; destination: string }
  | { by: "organization"; organizationId: string }
  | { by: "caller"; callerId: string };

export interface LimitRule {
  name: LimitName;
  action: CountedAction["action"];
  key: LimitKey;
  max: number;
  windowMs: number;
}

/** What the store checks and records for one action: the rules it must pass, at its time. */
export interface LimitCharge {
  rules: readonly LimitRule[];
  at: Date;
}

/** An action with the rules it must pass, at the time of the change that makes it. */
export interface LimitedAction extends LimitCharge {
  counted: CountedAction;
}

/** The rules a send or a verification must pass under the given (organization's) limits. */
export function rulesFor(counted: CountedAction, limits: Limits): LimitRule[] {
  const rule = ruleMaker(counted.action, limits);
  if (counted.action === "verify") {
    return [rule("verifications_per_user_hour", { by: "user", userId: counted.userId }, limits.verificationsPerUserHour)];
  }
  const rules = callerAndOrganizationRules(counted, limits);
  if (counted.destination !== undefined) {
    // Changing an address's case must not buy more codes to its mailbox.
    const destination = destinationKey(counted.channel, counted.destination);
    rules.push(
      rule("sends_per_destination_day", { by: "destination", destination }, limits.sendsPerDestinationDay),
      rule("sends_per_destination_10m", { by: "destination", destination }, limits.sendsPerDestinationShort),
    );
  }
  // Even without a cooldown (a window of 0, which refuses nothing): every send is counted, so that a cooldown switched
  // on later already knows the last one.
  rules.push(rule("send_cooldown", { by: "user-channel", userId: counted.userId, channel: counted.channel }, 1));
  return rules;
}

/**
 * The rules by which a send counts against its caller's and its organization's hourly limits, and no one else's: all
 * that a send refused for an address another user verified costs, since counting it against the address or its user
 * would use up the codes of the person who owns it.
 */
export function callerAndOrganizationRules(send: Pick<CountedAction, "callerId" | "organizationId">, limits: Limits): LimitRule[] {
  const rule = ruleMaker("send", limits);
  return [
    rule("sends_per_caller_hour", { by: "caller", callerId: send.callerId }, limits.sendsPerCallerHour),
    rule("sends_per_organization_hour", { by: "organization", organizationId: send.organizationId }, limits.sendsPerOrganizationHour),
  ];
}

/** Makes the rules of one kind of action under the given limits, each with its limit's window. */
function ruleMaker(action: CountedAction["action"], limits: Limits) {
  return (name: LimitName, key: LimitKey, max: number): LimitRule => ({ name, action, key, max, windowMs: limitWindowMs[name](limits) });
}

/**
 * Given the time of the `max`-th most recent counted action within the window (none: the rule passes), how long
 * until the next action passes: until that one leaves the window.
 */
export function waitForRule(rule: Pick<LimitRule, "windowMs">, maxthRecentAt: Date | undefined, now: Date): number {
  if (maxthRecentAt === undefined) return 0;
  return Math.max(1, maxthRecentAt.getTime() + rule.windowMs - now.getTime());
}

/** Thrown by the store when a counted action would break a rule; nothing of the change was written. */
export class LimitReached extends Error {
  constructor(
    readonly rule: LimitRule,
    readonly retryAfterMs: number,
  ) {
    super(`limit ${rule.name} reached; retry in ${retryAfterMs} ms`);
    this.name = "LimitReached";
  }
}
