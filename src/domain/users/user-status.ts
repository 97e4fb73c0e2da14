// Whether a user may act: deactivated and locked users keep their data but cannot log in, use tokens or verify.
// Each status change has exactly one starting status, as in ZITADEL; anything else changes nothing.
import { errors } from "../errors.js";
import type { EventBody, UserStatusEventType } from "../events.js";

export type UserStatus = "active" | "inactive" | "locked";

export type StatusChange = "deactivate" | "reactivate" | "lock" | "unlock";

const transitions: Record<StatusChange, { from: UserStatus; event: UserStatusEventType }> = {
  deactivate: { from: "active", event: "user.deactivated" },
  reactivate: { from: "inactive", event: "user.reactivated" },
  lock: { from: "active", event: "user.locked" },
  unlock: { from: "locked", event: "user.unlocked" },
};

/** The status each status event leads to: what the fold applies. */
export const statusAfter: Record<UserStatusEventType, UserStatus> = {
  "user.deactivated": "inactive",
  "user.reactivated": "active",
  "user.locked": "locked",
  "user.unlocked": "active",
};

export function isStatusEventType(type: string): type is UserStatusEventType {
  return Object.hasOwn(statusAfter, type);
}

/**
 * The event of a status change, or userStateNotChanged naming the status the user stays in and, unless the user is
 * already where the change leads, the one the change starts from: a locked user is reactivated by unlocking it.
 */
export function statusChangeEvent(current: UserStatus, change: StatusChange): EventBody {
  const { from, event } = transitions[change];
  if (current !== from) throw errors.userStateNotChanged(current, current === statusAfter[event] ? undefined : from);
  return { type: event, payload: {} };
}
