// The outbox in SQLite. Workers lease messages, so several of them (in one or more processes) never send one twice
// at the same time; a crashed worker's lease simply runs out. What ends a pending message (delivered, dead) is
// conditional on its still being pending and is written with the event that records it on the user's stream, in
// one transaction: of two workers that both sent a message (one's lease ran out), one records it, once.
import { and, asc, count, eq, gt, inArray, isNull, lte, min, or, sql } from "drizzle-orm";
import type { Channel } from "../../domain/errors.js";
import type { EventBody } from "../../domain/events.js";
import type { ClaimedMessage, DeadMessage, OutboxStore } from "../../domain/ports.js";
import type { Db } from "./open-database.js";
import { outbox } from "./schema.js";
import { SqliteUserStore } from "./sqlite-user-store.js";
import { failureBackOffMs } from "../outbox-back-off.js";
import { claimedColumns, claimedMessages, deadColumns, deadMessage } from "../outbox-rows.js";
import { type StorageGuard, unmonitoredStorage } from "../storage-health.js";
import { deleteInBatches, purgeBatchRows } from "../delete-in-batches.js";
import { batchRows } from "./batch-rows.js";

export interface SqliteOutboxStoreOptions {
  /** How long a claimed message is left to its worker before another may claim it. */
  leaseMs?: number;
  storage?: StorageGuard;
}

// Conditions and SET clauses bind a placeholder's value as it is, without the column's encoding, so timestamps are
// passed in as milliseconds.
const param = (name: string) => sql`${sql.placeholder(name)}`;

export class SqliteOutboxStore implements OutboxStore {
  private readonly leaseMs: number;
  private readonly storage: StorageGuard;
  private readonly claim;
  private readonly deliver;
  private readonly fail;
  private readonly kill;
  private readonly expireDue;
  private readonly discardOne;
  private readonly deleteFinished;
  private readonly pendingCount;
  private readonly deadCount;
  private readonly selectDead;
  private readonly reviveOne;
  private readonly reviveAll;
  private readonly waitingKeys;
  private readonly settleInTransaction;
  private readonly reviveInTransaction;

  constructor(db: Db, options: SqliteOutboxStoreOptions = {}) {
    this.leaseMs = options.leaseMs ?? 30_000;
    this.storage = options.storage ?? unmonitoredStorage;
    const due = db
      .select({ id: outbox.id })
      .from(outbox)
      .where(
        and(
          eq(outbox.status, "pending"),
          gt(outbox.expiresAt, param("now")),
          or(isNull(outbox.claimedUntil), lte(outbox.claimedUntil, param("now"))),
          // The key ids as a JSON array: a prepared statement binds one value per placeholder.
          sql`${outbox.keyId} IN (SELECT value FROM json_each(${sql.placeholder("keyIds")}))`,
          // NULL: any channel.
          sql`coalesce(${sql.placeholder("channel")}, ${outbox.channel}) = ${outbox.channel}`,
        ),
      )
      .orderBy(asc(outbox.createdAt))
      .limit(sql.placeholder("limit"));
    // One statement selects and leases, so two workers cannot both see a message as free.
    this.claim = db
      .update(outbox)
      .set({ claimedUntil: param("claimedUntil"), attempts: sql`${outbox.attempts} + 1` })
      .where(inArray(outbox.id, due))
      .returning(claimedColumns(outbox))
      .prepare();
    const pendingOne = and(eq(outbox.id, sql.placeholder("id")), eq(outbox.status, "pending"));
    this.deliver = db
      .update(outbox)
      .set({ status: "delivered", deliveredAt: param("at"), sealed: null, claimedUntil: null })
      .where(pendingOne)
      .returning({ userId: outbox.userId })
      .prepare();
    // The lease becomes a back-off that grows with the attempts (outbox-back-off.ts).
    this.fail = db
      .update(outbox)
      .set({
        lastError: param("error"),
        lastFailureAt: param("at"),
        claimedUntil: sql`${param("at")} + max(${failureBackOffMs(outbox.attempts, "min")}, ${param("retryAfterMs")})`,
      })
      .where(pendingOne)
      .prepare();
    // The body stays: an operator may fix the receiver and retry while the code is valid.
    this.kill = db
      .update(outbox)
      .set({ status: "dead", lastError: param("error"), lastFailureAt: param("at"), claimedUntil: null })
      .where(pendingOne)
      .returning({ userId: outbox.userId })
      .prepare();
    this.discardOne = db
      .update(outbox)
      .set({ status: "expired", sealed: null, claimedUntil: null })
      .where(eq(outbox.id, sql.placeholder("id")))
      .prepare();
    this.expireDue = db
      .update(outbox)
      .set({ status: "expired", sealed: null, claimedUntil: null })
      .where(and(inArray(outbox.status, ["pending", "dead"]), lte(outbox.expiresAt, param("now"))))
      .prepare();
    // Found through outbox_due (status, expires_at); pending and dead messages are never deleted here.
    this.deleteFinished = db
      .delete(outbox)
      .where(batchRows(db, outbox, and(inArray(outbox.status, ["delivered", "expired"]), lte(outbox.expiresAt, param("before"))), purgeBatchRows))
      .prepare();
    // Ranges of outbox_due (status, expires_at): they visit only the waiting and dead messages, which live no longer
    // than a code, so a scrape costs the same however many delivered rows the retention keeps.
    this.pendingCount = db
      .select({ messages: count(), oldestCreatedAt: min(outbox.createdAt) })
      .from(outbox)
      .where(and(eq(outbox.status, "pending"), gt(outbox.expiresAt, param("now"))))
      .prepare();
    const deadAndValid = and(eq(outbox.status, "dead"), gt(outbox.expiresAt, param("now")));
    this.deadCount = db.select({ messages: count() }).from(outbox).where(deadAndValid).prepare();
    this.selectDead = db
      .select(deadColumns(outbox))
      .from(outbox)
      .where(deadAndValid)
      .orderBy(asc(outbox.createdAt))
      .prepare();
    const revived = { status: "pending", attempts: 0, claimedUntil: null } as const;
    this.reviveOne = db.update(outbox).set(revived).where(and(eq(outbox.id, sql.placeholder("id")), deadAndValid)).prepare();
    this.reviveAll = db.update(outbox).set(revived).where(deadAndValid).prepare();
    this.waitingKeys = db
      .select({ keyId: outbox.keyId, messages: count() })
      .from(outbox)
      .where(and(inArray(outbox.status, ["pending", "dead"]), gt(outbox.expiresAt, param("now"))))
      .groupBy(outbox.keyId)
      .prepare();

    const users = new SqliteUserStore(db);
    this.settleInTransaction = db.$client.transaction(
      (settle: () => { userId: string } | undefined, event: EventBody | undefined, at: Date): boolean => {
        const settled = settle();
        if (settled && event) users.appendFact(settled.userId, event, at);
        return settled !== undefined;
      },
    ).immediate;
    this.reviveInTransaction = db.$client.transaction((ids: readonly string[], now: number) =>
      ids.reduce((revivedCount, id) => revivedCount + this.reviveOne.run({ id, now }).changes, 0),
    );
  }

  async claimDue(now: Date, limit: number, keyIds: readonly string[], channel?: Channel): Promise<ClaimedMessage[]> {
    const claimedUntil = now.getTime() + this.leaseMs;
    const rows = this.storage.use(() =>
      this.claim.all({ now: now.getTime(), limit, claimedUntil, keyIds: JSON.stringify(keyIds), channel: channel ?? null }),
    );
    return claimedMessages(rows);
  }

  async markDelivered(id: string, at: Date, event?: EventBody): Promise<boolean> {
    return this.storage.write(() => this.settleInTransaction(() => this.deliver.get({ id, at: at.getTime() }), event, at));
  }

  /** The message stays due, after a back-off that grows with its attempts. */
  async markFailed(id: string, at: Date, error: string, retryAfterMs = 0): Promise<boolean> {
    return this.storage.use(() => this.fail.run({ id, at: at.getTime(), error, retryAfterMs }).changes > 0);
  }

  async markDead(id: string, at: Date, error: string, event?: EventBody): Promise<boolean> {
    return this.storage.write(() =>
      this.settleInTransaction(() => this.kill.get({ id, at: at.getTime(), error }), event, at),
    );
  }

  /** Wipes a message that can never be delivered, e.g. sealed with a key no longer in the keyring. */
  async discard(id: string): Promise<void> {
    this.storage.use(() => this.discardOne.run({ id }));
  }

  async expire(now: Date): Promise<number> {
    return this.storage.use(() => this.expireDue.run({ now: now.getTime() }).changes);
  }

  /** Messages waiting (due or backing off) and dead ones whose code is still valid; when the oldest waiting was made. */
  async backlog(now: Date): Promise<{ pending: number; oldestPendingCreatedAt?: Date; dead: number }> {
    return this.storage.use(() => {
      const pending = this.pendingCount.get({ now: now.getTime() });
      return {
        pending: pending?.messages ?? 0,
        ...(pending?.oldestCreatedAt ? { oldestPendingCreatedAt: pending.oldestCreatedAt } : {}),
        dead: this.deadCount.get({ now: now.getTime() })?.messages ?? 0,
      };
    });
  }

  async purge(before: Date): Promise<number> {
    return deleteInBatches(() => this.storage.use(() => this.deleteFinished.run({ before: before.getTime() }).changes));
  }

  async listDead(now: Date): Promise<DeadMessage[]> {
    const rows = this.storage.use(() => this.selectDead.all({ now: now.getTime() }));
    return rows.map(deadMessage);
  }

  async retryDead(ids: readonly string[] | "all", now: Date): Promise<number> {
    return this.storage.write(() =>
      ids === "all" ? this.reviveAll.run({ now: now.getTime() }).changes : this.reviveInTransaction(ids, now.getTime()),
    );
  }

  async waitingByKey(now: Date): Promise<ReadonlyMap<string, number>> {
    const rows = this.storage.use(() => this.waitingKeys.all({ now: now.getTime() }));
    return new Map(rows.map((row) => [row.keyId, row.messages]));
  }
}
