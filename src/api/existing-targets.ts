// A refused call names whom it was about as the request gives it. The security log keeps a user so named only where
// the user exists: entries are coalesced per kind, caller and user, so a caller naming a made-up id per call would add
// an entry per call, and write into the log whatever text it chose as the id (numbers, addresses, line breaks). A
// refusal about no one who exists is counted on one entry without them. (An organization that does not exist is
// NotFound before any permission is checked, and such calls add no entry.)
import type { UserStore } from "../domain/ports.js";
import type { SecurityEventInput } from "../domain/security/security-event.js";

export type ExistingTargets = (event: SecurityEventInput) => Promise<SecurityEventInput>;

export function keepingExistingUsers(users: Pick<UserStore, "load">): ExistingTargets {
  return async (event) => {
    const { userId, ...rest } = event;
    return userId !== undefined && (await users.load(userId)) ? event : rest;
  };
}
