// The columns and parameters of the user store's hand-written writes (an event, a user's row, an outbox message), for
// both dialects: each store takes the columns of these names from its own schema, in this order. Only a timestamp's
// form differs: SQLite stores milliseconds, PostgreSQL takes the Date.
import { mailboxOf } from "../domain/email-address.js";
import type { UserEvent } from "../domain/events.js";
import type { NewOutboxMessage } from "../domain/ports.js";
import type { UserState } from "../domain/user-state.js";
import { serializeUserState } from "./user-state-codec.js";

export type TimeParameter = (at: Date) => unknown;

export const eventColumnKeys = ["aggregateId", "sequence", "type", "payload", "resourceOwner", "createdAt"] as const;
export const userColumnKeys = [
  "id",
  "resourceOwner",
  "username",
  "sequence",
  "createdAt",
  "changedAt",
  "state",
  "kind",
  "status",
  "verifiedPhone",
  "verifiedEmail",
] as const;
export const messageColumnKeys = ["id", "userId", "channel", "purpose", "keyId", "sealed", "createdAt", "expiresAt"] as const;

/** In the order of eventColumnKeys. */
export function eventParameters(event: UserEvent, time: TimeParameter): unknown[] {
  return [event.aggregateId, event.sequence, event.type, JSON.stringify(event.payload), event.resourceOwner, time(event.createdAt)];
}

/** In the order of userColumnKeys. */
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

/** In the order of messageColumnKeys. */
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

/**
 * A pending change is not a login name until it is verified; the verified address it replaces stays one until then.
 * An email address is kept by its mailbox, so that one spelled in another case is the same login name.
 */
export function loginContacts(state: UserState): { verifiedPhone: string | null; verifiedEmail: string | null } {
  if (state.kind !== "human") return { verifiedPhone: null, verifiedEmail: null };
  const { verified } = state.email;
  return { verifiedPhone: state.phone.verified ?? null, verifiedEmail: verified === undefined ? null : mailboxOf(verified) };
}
