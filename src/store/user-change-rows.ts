// The columns and parameters of the user store's hand-written writes (an event, a user's row, an outbox message), for
// both dialects: each store takes the columns of these names from its own schema, in this order. Only a timestamp's
// form differs: SQLite stores milliseconds, PostgreSQL takes the Date.
import type { Column } from "drizzle-orm";
import { mailboxOf } from "../domain/email-address.js";
import type { UserEvent } from "../domain/events.js";
import { AppendConflict, type NewOutboxMessage } from "../domain/ports.js";
import type { UserState } from "../domain/user-state.js";
import { quoted } from "./raw-statement.js";
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

/** The columns that name a user in the tables erasing it deletes from, as each dialect's schema.ts has them. */
export interface ErasedColumns {
  outbox: { userId: Column };
  accessTokens: { userId: Column };
  members: { userId: Column };
  events: { aggregateId: Column };
  users: { id: Column };
}

/**
 * The statements that erase a user, each with the user's id as its one parameter: the rows that reference the user's
 * row (foreign keys) go before it.
 */
export function userErasureStatements(schema: ErasedColumns, parameter: string): string[] {
  const { outbox, accessTokens, members, events, users } = schema;
  return [outbox.userId, accessTokens.userId, members.userId, events.aggregateId, users.id].map(
    (column) => `DELETE FROM ${quoted(column.table)} WHERE ${quoted(column)} = ${parameter}`,
  );
}

/** Throws the sequence conflict of a change decided on `expectedSequence` when the stored user is at `sequence` (0: none). */
export function assertAtSequence(userId: string, expectedSequence: number, sequence: number): void {
  if (sequence !== expectedSequence) {
    throw new AppendConflict("sequence", `user ${userId} is at sequence ${sequence}, the change expected ${expectedSequence}`);
  }
}

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
