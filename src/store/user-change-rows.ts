// The parameters of the user store's hand-written writes (an event, a user's row, an outbox message), for both
// dialects, in the order of the column lists each store declares from its schema. Only a timestamp's form differs:
// SQLite stores milliseconds, PostgreSQL takes the Date.
import type { UserEvent } from "../domain/events.js";
import type { NewOutboxMessage } from "../domain/ports.js";
import type { UserState } from "../domain/user-state.js";
import { serializeUserState } from "./user-state-codec.js";

export type TimeParameter = (at: Date) => unknown;

/** aggregate_id, sequence, type, payload, resource_owner, created_at */
export function eventParameters(event: UserEvent, time: TimeParameter): unknown[] {
  return [event.aggregateId, event.sequence, event.type, JSON.stringify(event.payload), event.resourceOwner, time(event.createdAt)];
}

/** id, resource_owner, username, sequence, created_at, changed_at, state, kind, status, verified_phone, verified_email */
export function userParameters(state: UserState, time: TimeParameter): unknown[] {
  const contacts = loginContacts(state);
  return [
    state.id,
    state.resourceOwner,
    state.username,
    state.sequence,
    time(state.createdAt),
    time(state.changedAt),
    serializeUserState(state),
    state.kind,
    state.status,
    contacts.verifiedPhone,
    contacts.verifiedEmail,
  ];
}

/** id, user_id, channel, purpose, key_id, sealed, created_at, expires_at */
export function messageParameters(message: NewOutboxMessage, time: TimeParameter): unknown[] {
  return [
    message.id,
    message.userId,
    message.channel,
    message.purpose,
    message.keyId,
    Buffer.from(message.sealed),
    time(message.createdAt),
    time(message.expiresAt),
  ];
}

/** A pending change is not a login name until it is verified; the verified address it replaces stays one until then. */
export function loginContacts(state: UserState): { verifiedPhone: string | null; verifiedEmail: string | null } {
  if (state.kind !== "human") return { verifiedPhone: null, verifiedEmail: null };
  return { verifiedPhone: state.phone.verified ?? null, verifiedEmail: state.email.verified ?? null };
}
