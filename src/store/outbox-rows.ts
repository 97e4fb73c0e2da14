// Outbox rows as the domain sees them, in both dialects: the columns a claimed or a dead message is read from, and the
// message made of such a row (a claimed one with its body, a dead one with only the failure fields it has). The
// statements that read the rows are each dialect's own; which columns they read and what a row means are one.
import type { Column } from "drizzle-orm";
import type { Channel } from "../domain/errors.js";
import type { ClaimedMessage, DeadMessage } from "../domain/ports.js";

type ClaimedColumn = "id" | "userId" | "channel" | "keyId" | "sealed" | "createdAt" | "expiresAt" | "attempts";

/** What a claim returns, of either dialect's outbox table. */
export function claimedColumns<T extends Record<ClaimedColumn, Column>>(outbox: T): Pick<T, ClaimedColumn> {
  const { id, userId, channel, keyId, sealed, createdAt, expiresAt, attempts } = outbox;
  return { id, userId, channel, keyId, sealed, createdAt, expiresAt, attempts };
}

/** The row a claim returns: the body is nullable in the schema, because delivery and expiry wipe it. */
export interface ClaimedRow extends Omit<ClaimedMessage, "sealed"> {
  sealed: Uint8Array | null;
}

/** Claimed rows as messages, oldest first (an UPDATE … RETURNING keeps no order). */
export function claimedMessages(rows: readonly ClaimedRow[]): ClaimedMessage[] {
  return (
    rows
      // A pending message always has its body; only delivery and expiry wipe it.
      .map(({ sealed, ...row }) => ({ ...row, sealed: new Uint8Array(sealed as Uint8Array) }))
      .sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime())
  );
}

type DeadColumn = "id" | "userId" | "channel" | "attempts" | "lastError" | "createdAt" | "lastFailureAt" | "expiresAt";

/** What a dead message is listed with, of either dialect's outbox table. */
export function deadColumns<T extends Record<DeadColumn, Column>>(outbox: T): Pick<T, DeadColumn> {
  const { id, userId, channel, attempts, lastError, createdAt, lastFailureAt, expiresAt } = outbox;
  return { id, userId, channel, attempts, lastError, createdAt, lastFailureAt, expiresAt };
}

export interface DeadRow {
  id: string;
  userId: string;
  channel: Channel;
  attempts: number;
  lastError: string | null;
  createdAt: Date;
  lastFailureAt: Date | null;
  expiresAt: Date;
}

/** A dead row as a message, its absent failure fields left out. */
export function deadMessage({ lastError, lastFailureAt, ...row }: DeadRow): DeadMessage {
  return {
    ...row,
    ...(lastError === null ? {} : { lastError }),
    ...(lastFailureAt === null ? {} : { lastFailureAt }),
  };
}
