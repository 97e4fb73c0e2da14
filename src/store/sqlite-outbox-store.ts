// The outbox in SQLite. Workers lease messages, so several of them (in one or more processes) never send one twice
// at the same time; a crashed worker's lease simply runs out.
import { and, asc, count, eq, gt, inArray, isNull, lte, min, or, sql } from "drizzle-orm";
import type { OutboxStore, SealedMessage } from "../domain/ports.js";
import type { Db } from "./open-database.js";
import { outbox } from "./schema.js";
import { type StorageGuard, unmonitoredStorage } from "./storage-health.js";

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
  private readonly expireDue;
  private readonly discardOne;
  private readonly deleteFinished;
  private readonly backlog;

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
        ),
      )
      .orderBy(asc(outbox.createdAt))
      .limit(sql.placeholder("limit"));
    // One statement selects and leases, so two workers cannot both see a message as free.
    this.claim = db
      .update(outbox)
      .set({ claimedUntil: param("claimedUntil"), attempts: sql`${outbox.attempts} + 1` })
      .where(inArray(outbox.id, due))
      .returning({
        id: outbox.id,
        userId: outbox.userId,
        channel: outbox.channel,
        keyId: outbox.keyId,
        sealed: outbox.sealed,
        createdAt: outbox.createdAt,
        expiresAt: outbox.expiresAt,
      })
      .prepare();
    this.deliver = db
      .update(outbox)
      .set({ status: "delivered", deliveredAt: param("at"), sealed: null, claimedUntil: null })
      .where(eq(outbox.id, sql.placeholder("id")))
      .prepare();
    // The lease becomes a back-off: 1 s after the first failure, doubling up to 5 minutes.
    this.fail = db
      .update(outbox)
      .set({
        lastError: param("error"),
        lastFailureAt: param("at"),
        claimedUntil: sql`${param("at")} + min(300000, 1000 * (1 << min(${outbox.attempts} - 1, 9)))`,
      })
      .where(and(eq(outbox.id, sql.placeholder("id")), eq(outbox.status, "pending")))
      .prepare();
    this.discardOne = db
      .update(outbox)
      .set({ status: "expired", sealed: null, claimedUntil: null })
      .where(eq(outbox.id, sql.placeholder("id")))
      .prepare();
    this.expireDue = db
      .update(outbox)
      .set({ status: "expired", sealed: null, claimedUntil: null })
      .where(and(eq(outbox.status, "pending"), lte(outbox.expiresAt, param("now"))))
      .prepare();
    // Found through outbox_due (status, expires_at); pending messages are never deleted here.
    this.deleteFinished = db
      .delete(outbox)
      .where(and(inArray(outbox.status, ["delivered", "expired"]), lte(outbox.expiresAt, param("before"))))
      .prepare();
    // A range of outbox_due (status, expires_at): it visits only the waiting messages, which live no longer than a
    // code, so a scrape costs the same however many delivered rows the retention keeps.
    this.backlog = db
      .select({ messages: count(), oldestCreatedAt: min(outbox.createdAt) })
      .from(outbox)
      .where(and(eq(outbox.status, "pending"), gt(outbox.expiresAt, param("now"))))
      .prepare();
  }

  async claimDue(now: Date, limit: number): Promise<SealedMessage[]> {
    const rows = this.storage.use(() =>
      this.claim.all({ now: now.getTime(), limit, claimedUntil: now.getTime() + this.leaseMs }),
    );
    return rows
      // A pending message always has its body; only delivery and expiry wipe it.
      .map(({ sealed, ...row }) => ({ ...row, sealed: new Uint8Array(sealed as Buffer) }))
      .sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime());
  }

  async markDelivered(id: string, at: Date): Promise<void> {
    this.storage.use(() => this.deliver.run({ id, at: at.getTime() }));
  }

  /** The message stays due, after a back-off that grows with its attempts. */
  async markFailed(id: string, at: Date, error: string): Promise<void> {
    this.storage.use(() => this.fail.run({ id, at: at.getTime(), error }));
  }

  /** Wipes a message that can never be delivered, e.g. sealed with a key no longer in the keyring. */
  async discard(id: string): Promise<void> {
    this.storage.use(() => this.discardOne.run({ id }));
  }

  async expire(now: Date): Promise<number> {
    return this.storage.use(() => this.expireDue.run({ now: now.getTime() }).changes);
  }

  /** Messages waiting for delivery whose code is still valid, and when the oldest of them was made. */
  async pendingBacklog(now: Date): Promise<{ messages: number; oldestCreatedAt?: Date }> {
    const row = this.storage.use(() => this.backlog.get({ now: now.getTime() }));
    return { messages: row?.messages ?? 0, ...(row?.oldestCreatedAt ? { oldestCreatedAt: row.oldestCreatedAt } : {}) };
  }

  async purge(before: Date): Promise<number> {
    return this.storage.use(() => this.deleteFinished.run({ before: before.getTime() }).changes);
  }
}
