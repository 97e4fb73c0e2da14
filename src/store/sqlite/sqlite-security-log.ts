// The security log in SQLite. A repeat of an outcome within its coalescing window raises the count of the entry it
// repeats instead of adding one; the lookup and the write are in one transaction holding the write lock, so two
// processes sharing the file coalesce a repeat onto the same entry instead of each adding one.
import { and, asc, count, desc, eq, gte, lt, sql } from "drizzle-orm";
import type { SecurityEventInput, SecurityLog } from "../../domain/security/security-event.js";
import type { SecurityEventPage, SecurityEventQuery, SecurityLogReader } from "../../domain/security/security-log-query.js";
import type { Db } from "./open-database.js";
import { groupCommitFor } from "./group-commit.js";
import { securityEvents } from "./schema.js";
import { defaultCoalesceMs, securityEventColumns, securityEventFingerprint, securityEventOf } from "../security-event-row.js";
import { securityLogCondition } from "../security-log-condition.js";
import { type StorageGuard, unmonitoredStorage } from "../storage-health.js";

const placeholder = sql.placeholder;

export class SqliteSecurityLog implements SecurityLog, SecurityLogReader {
  private readonly selectRepeat;
  private readonly countRepeat;
  private readonly insertEvent;
  private readonly deleteOlder;
  private readonly commit;

  constructor(
    private readonly db: Db,
    private readonly storage: StorageGuard = unmonitoredStorage,
  ) {
    // Conditions and sql`` bind a placeholder as it is, without the column's encoding: times go in as milliseconds.
    this.selectRepeat = db
      .select({ id: securityEvents.id })
      .from(securityEvents)
      .where(and(eq(securityEvents.fingerprint, placeholder("fingerprint")), gte(securityEvents.lastAt, sql`${placeholder("since")}`)))
      .orderBy(desc(securityEvents.lastAt), desc(securityEvents.id))
      .limit(1)
      .prepare();
    this.countRepeat = db
      .update(securityEvents)
      .set({
        count: sql`${securityEvents.count} + 1`,
        // A clock set back must not move an entry's last occurrence back.
        lastAt: sql`max(${securityEvents.lastAt}, ${placeholder("at")})`,
      })
      .where(eq(securityEvents.id, placeholder("id")))
      .prepare();
    this.insertEvent = db
      .insert(securityEvents)
      .values({
        at: placeholder("at"),
        lastAt: placeholder("at"),
        count: 1,
        kind: placeholder("kind"),
        actorId: placeholder("actorId"),
        clientAddress: placeholder("clientAddress"),
        userId: placeholder("userId"),
        organizationId: placeholder("organizationId"),
        detail: placeholder("detail"),
        fingerprint: placeholder("fingerprint"),
      })
      .prepare();
    this.deleteOlder = db
      .delete(securityEvents)
      .where(lt(securityEvents.lastAt, sql`${placeholder("before")}`))
      .prepare();
    // Committed with the calls' other writes (group-commit.ts), in a transaction that holds the write lock.
    this.commit = groupCommitFor(db.$client, storage.write);
  }

  async record(event: SecurityEventInput, at: Date, coalesceMs = defaultCoalesceMs): Promise<void> {
    await this.commit(() => {
      const columns = securityEventColumns(event);
      const fingerprint = securityEventFingerprint(columns);
      const repeat = this.selectRepeat.get({ fingerprint, since: at.getTime() - coalesceMs });
      if (repeat) this.countRepeat.run({ id: repeat.id, at: at.getTime() });
      else this.insertEvent.run({ ...columns, at, fingerprint });
    });
  }

  async list(query: SecurityEventQuery): Promise<SecurityEventPage> {
    const where = securityLogCondition(securityEvents, query);
    const order = query.ascending ? asc : desc;
    return this.storage.use(() => {
      const total = this.db.select({ total: count() }).from(securityEvents).where(where).get()?.total ?? 0;
      const rows = this.db
        .select()
        .from(securityEvents)
        .where(where)
        .orderBy(order(securityEvents.lastAt), order(securityEvents.id))
        .limit(query.limit)
        .offset(query.offset)
        .all();
      return { total, events: rows.map(securityEventOf) };
    });
  }

  /** Deletes the entries that last occurred before `before`; returns how many. */
  async purge(before: Date): Promise<number> {
    return this.storage.write(() => this.deleteOlder.run({ before: before.getTime() }).changes);
  }
}
