// The outbox in PostgreSQL, shared by the workers of several processes. A claim selects and leases in one statement
// that skips rows another worker is claiming (FOR UPDATE SKIP LOCKED), so no two workers claim one message at once; a
// crashed worker's lease simply runs out. What ends a pending message (delivered, dead) is conditional on its still
// being pending and is written with the event that records it on the user's stream, in one transaction: of two
// workers that both sent a message (one's lease ran out), one records it, once.
import { and, asc, count, eq, gt, inArray, isNull, lte, min, or, sql } from "drizzle-orm";
import { drizzle } from "drizzle-orm/node-postgres";
import type { Channel } from "../../domain/errors.js";
import type { EventBody } from "../../domain/events.js";
import type { ClaimedMessage, DeadMessage, OutboxStore } from "../../domain/ports.js";
import { failureBackOffMs } from "../outbox-back-off.js";
import { claimedColumns, claimedMessages, deadColumns, deadMessage } from "../outbox-rows.js";
import { type StorageGuard, unmonitoredStorage } from "../storage-health.js";
import type { PgDb } from "./open-postgres.js";
import type { PgQueries } from "./postgres-limit-counter.js";
import { PostgresUserStore } from "./postgres-user-store.js";
import { inTransaction } from "./pool-transaction.js";
import { outbox, users } from "./schema.js";
import { deleteInBatches } from "../delete-in-batches.js";
import { batchRows } from "./batch-rows.js";

export interface PostgresOutboxStoreOptions {
  /** How long a claimed message is left to its worker before another may claim it. */
  leaseMs?: number;
  storage?: StorageGuard;
}

const pendingOne = (id: string) => and(eq(outbox.id, id), eq(outbox.status, "pending"));
const deadAndValid = (now: Date) => and(eq(outbox.status, "dead"), gt(outbox.expiresAt, now));

export class PostgresOutboxStore implements OutboxStore {
  private readonly leaseMs: number;
  private readonly storage: StorageGuard;
  private readonly users: PostgresUserStore;

  constructor(
    private readonly db: PgDb,
    options: PostgresOutboxStoreOptions = {},
  ) {
    this.leaseMs = options.leaseMs ?? 30_000;
    this.storage = options.storage ?? unmonitoredStorage;
    this.users = new PostgresUserStore(db);
  }

  async claimDue(now: Date, limit: number, keyIds: readonly string[], channel?: Channel): Promise<ClaimedMessage[]> {
    const due = this.db
      .select({ id: outbox.id })
      .from(outbox)
      .where(
        and(
          eq(outbox.status, "pending"),
          gt(outbox.expiresAt, now),
          inArray(outbox.keyId, [...keyIds]),
          channel === undefined ? undefined : eq(outbox.channel, channel),
          or(isNull(outbox.claimedUntil), lte(outbox.claimedUntil, now)),
        ),
      )
      .orderBy(asc(outbox.createdAt))
      .limit(limit)
      .for("update", { skipLocked: true });
    const rows = await this.storage.use(() =>
      this.db
        .update(outbox)
        .set({ claimedUntil: new Date(now.getTime() + this.leaseMs), attempts: sql`${outbox.attempts} + 1` })
        .where(inArray(outbox.id, due))
        .returning(claimedColumns(outbox)),
    );
    return claimedMessages(rows);
  }

  async markDelivered(id: string, at: Date, event?: EventBody): Promise<boolean> {
    return this.storage.write(() =>
      this.settle(id, event, at, (tx) =>
        tx
          .update(outbox)
          .set({ status: "delivered", deliveredAt: at, sealed: null, claimedUntil: null })
          .where(pendingOne(id))
          .returning({ userId: outbox.userId }),
      ),
    );
  }

  /** The message stays due, after a back-off that grows with its attempts (outbox-back-off.ts). */
  async markFailed(id: string, at: Date, error: string, retryAfterMs = 0): Promise<boolean> {
    const backOffMs = sql`greatest(${failureBackOffMs(outbox.attempts, "least")}, ${Math.round(retryAfterMs)}::bigint)`;
    const result = await this.storage.use(() =>
      this.db
        .update(outbox)
        .set({
          lastError: error,
          lastFailureAt: at,
          claimedUntil: sql`${at.toISOString()}::timestamptz + ${backOffMs} * interval '1 millisecond'`,
        })
        .where(pendingOne(id)),
    );
    return (result.rowCount ?? 0) > 0;
  }

  async markDead(id: string, at: Date, error: string, event?: EventBody): Promise<boolean> {
    // The body stays: an operator may fix the receiver and retry while the code is valid.
    return this.storage.write(() =>
      this.settle(id, event, at, (tx) =>
        tx
          .update(outbox)
          .set({ status: "dead", lastError: error, lastFailureAt: at, claimedUntil: null })
          .where(pendingOne(id))
          .returning({ userId: outbox.userId }),
      ),
    );
  }

  /** Wipes a message that can never be delivered, e.g. sealed with a key no longer in the keyring. */
  async discard(id: string): Promise<void> {
    await this.storage.use(() =>
      this.db.update(outbox).set({ status: "expired", sealed: null, claimedUntil: null }).where(eq(outbox.id, id)),
    );
  }

  async expire(now: Date): Promise<number> {
    const result = await this.storage.use(() =>
      this.db
        .update(outbox)
        .set({ status: "expired", sealed: null, claimedUntil: null })
        .where(and(inArray(outbox.status, ["pending", "dead"]), lte(outbox.expiresAt, now))),
    );
    return result.rowCount ?? 0;
  }

  async waitingByKey(now: Date): Promise<ReadonlyMap<string, number>> {
    const rows = await this.storage.use(() =>
      this.db
        .select({ keyId: outbox.keyId, messages: count() })
        .from(outbox)
        .where(and(inArray(outbox.status, ["pending", "dead"]), gt(outbox.expiresAt, now)))
        .groupBy(outbox.keyId),
    );
    return new Map(rows.map((row) => [row.keyId, row.messages]));
  }

  /** Messages waiting (due or backing off) and dead ones whose code is still valid; when the oldest waiting was made. */
  async backlog(now: Date): Promise<{ pending: number; oldestPendingCreatedAt?: Date; dead: number }> {
    // Ranges of outbox_due (status, expires_at): they visit only the waiting and dead messages, which live no longer
    // than a code, so a scrape costs the same however many delivered rows the retention keeps.
    return this.storage.use(async () => {
      const [pending] = await this.db
        .select({ messages: count(), oldestCreatedAt: min(outbox.createdAt) })
        .from(outbox)
        .where(and(eq(outbox.status, "pending"), gt(outbox.expiresAt, now)));
      const [dead] = await this.db.select({ messages: count() }).from(outbox).where(deadAndValid(now));
      return {
        pending: pending?.messages ?? 0,
        ...(pending?.oldestCreatedAt ? { oldestPendingCreatedAt: pending.oldestCreatedAt } : {}),
        dead: dead?.messages ?? 0,
      };
    });
  }

  /** Found through outbox_due (status, expires_at); pending and dead messages are never deleted here. */
  async purge(before: Date): Promise<number> {
    const finished = and(inArray(outbox.status, ["delivered", "expired"]), lte(outbox.expiresAt, before));
    return deleteInBatches(async (limit) => {
      const batch = batchRows(this.db, outbox, finished, limit);
      return (await this.storage.use(() => this.db.delete(outbox).where(batch))).rowCount ?? 0;
    });
  }

  async listDead(now: Date): Promise<DeadMessage[]> {
    const rows = await this.storage.use(() =>
      this.db
        .select(deadColumns(outbox))
        .from(outbox)
        .where(deadAndValid(now))
        .orderBy(asc(outbox.createdAt)),
    );
    return rows.map(deadMessage);
  }

  async retryDead(ids: readonly string[] | "all", now: Date): Promise<number> {
    if (ids !== "all" && ids.length === 0) return 0;
    const which = ids === "all" ? deadAndValid(now) : and(inArray(outbox.id, [...ids]), deadAndValid(now));
    const result = await this.storage.write(() =>
      this.db.update(outbox).set({ status: "pending", attempts: 0, claimedUntil: null }).where(which),
    );
    return result.rowCount ?? 0;
  }

  /**
   * Ends a pending message with `settle` and records `event` for its user, in one transaction. The user's row is
   * locked before the message's, the order in which an append takes them (it supersedes the user's messages), so the
   * two never wait for each other in a cycle.
   */
  private settle(
    id: string,
    event: EventBody | undefined,
    at: Date,
    settle: (tx: PgQueries) => Promise<{ userId: string }[]>,
  ): Promise<boolean> {
    // On a connection of its own, which the user store's appendFact sends its statements on in the same transaction.
    return inTransaction(this.db.$client, async (client) => {
      const tx = drizzle({ client });
      if (event) {
        const [message] = await tx.select({ userId: outbox.userId }).from(outbox).where(eq(outbox.id, id));
        if (!message) return false;
        await tx.select({ id: users.id }).from(users).where(eq(users.id, message.userId)).for("update");
      }
      const [settled] = await settle(tx);
      if (settled && event) await this.users.appendFact(client, settled.userId, event, at);
      return settled !== undefined;
    });
  }
}
