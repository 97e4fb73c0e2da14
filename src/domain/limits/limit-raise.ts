// Loosening a limit spends the operator's money (every SMS is paid for) and widens what an abuser can do, so beyond
// the instance's default only an IAM_OWNER may loosen one. An organization keeps what an IAM_OWNER granted it: setting
// a value no looser than its current one is not a raise, so its owners can still change other settings.
import type { Principal } from "../access/principal.js";
import { isInstanceOwner } from "../access/permissions.js";
import { type DomainError, errors } from "../errors.js";
import type { LimitName, Limits } from "./limits.js";

/** Each limit's name, and which way is looser: more sends or verifications, or less time between sends. */
const limitDirections: readonly { key: keyof Limits; name: LimitName; looser: (a: number, b: number) => boolean }[] = [
  { key: "sendCooldownMs", name: "send_cooldown", looser: (a, b) => a < b },
  { key: "sendsPerDestinationShort", name: "sends_per_destination_10m", looser: (a, b) => a > b },
  { key: "sendsPerDestinationDay", name: "sends_per_destination_day", looser: (a, b) => a > b },
  { key: "sendsPerOrganizationHour", name: "sends_per_organization_hour", looser: (a, b) => a > b },
  { key: "sendsPerCallerHour", name: "sends_per_caller_hour", looser: (a, b) => a > b },
  { key: "verificationsPerUserHour", name: "verifications_per_user_hour", looser: (a, b) => a > b },
];

/** The limits `requested` loosens beyond both the instance's default and the organization's `current` override. */
export function raisedLimits(instance: Limits, current: Partial<Limits>, requested: Partial<Limits>): LimitName[] {
  return limitDirections
    .filter(({ key, looser }) => {
      const value = requested[key];
      if (value === undefined) return false;
      return looser(value, instance[key]) && looser(value, current[key] ?? instance[key]);
    })
    .map(({ name }) => name);
}

/** undefined when the caller may set these limits; LIMIT_RAISE_DENIED naming the raised ones otherwise. */
export function limitRaiseError(
  principal: Principal,
  instance: Limits,
  current: Partial<Limits>,
  requested: Partial<Limits>,
): DomainError | undefined {
  if (isInstanceOwner(principal)) return undefined;
  const raised = raisedLimits(instance, current, requested);
  return raised.length === 0 ? undefined : errors.limitRaiseDenied(raised);
}
