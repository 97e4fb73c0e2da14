// The security log in SQLite. A repeat of an outcome within its coalescing window raises the count of the entry it
// repeats instead of adding one; the lookup and the write are in one transaction holding the write lock, so two
// processes sharing the file coalesce a repeat onto the same entry instead of each adding one.
import { asc, count, desc, lt, sql } from "drizzle-orm";
import type { Statement } from "better-sqlite3";
import type { SecurityEventInput, SecurityLog } from "../../domain/security/security-event.js";
import type { SecurityEventPage, SecurityEventQuery, SecurityLogReader } from "../../domain/security/security-log-query.js";
import type { Db } from "./open-database.js";
import { groupCommitFor } from "./group-commit.js";
import { securityEvents } from "./schema.js";
import { columnList, quoted } from "../raw-statement.js";
import { defaultCoalesceMs, securityEventColumns, securityEventFingerprint } from "../../domain/security/security-event-identity.js";
import { newEntryColumnKeys, newEntryParameters, securityEventOf } from "../security-event-row.js";
import { securityLogCondition } from "../security-log-condition.js";
import { deleteInBatches, purgeBatchRows } from "../delete-in-batches.js";
import { batchRows } from "./batch-rows.js";
import { type StorageGuard, unmonitoredStorage } from "../storage-health.js";

const insertedColumns = newEntryColumnKeys.map((key) => securityEvents[key]);

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
    // Written in every refused call that is a security outcome (a wrong code, a failed login): better-sqlite3
    // statements prepared once, like the other per-call statements, since drizzle's per-call mapping was 4% of a
    // wrong-code VerifyPhone's CPU in `npm run bench -- --profile`. Names come from schema.ts; times are milliseconds.
    const client = db.$client;
    const events = quoted(securityEvents);
    const [id, lastAt, fingerprint] = [securityEvents.id, securityEvents.lastAt, securityEvents.fingerprint].map(quoted);
    // `IS`: the entries about no user too, through the same index (security_events_by_user).
    this.selectRepeat = client
      .prepare(
        `SELECT ${id} FROM ${events} WHERE ${quoted(securityEvents.userId)} IS ? AND ${fingerprint} = ? AND ${lastAt} >= ? ` +
          `ORDER BY ${lastAt} DESC, ${id} DESC LIMIT 1`,
      )
      .pluck() as Statement<[string | null, string, number], number>;
    // A clock set back must not move an entry's last occurrence back.
    this.countRepeat = client.prepare<[number, number]>(
      `UPDATE ${events} SET ${quoted(securityEvents.count)} = ${quoted(securityEvents.count)} + 1, ${lastAt} = max(${lastAt}, ?) WHERE ${id} = ?`,
    );
    this.insertEvent = client.prepare<unknown[]>(
      `INSERT INTO ${events} (${columnList(insertedColumns)}) VALUES (${insertedColumns.map(() => "?").join(", ")})`,
    );
    this.deleteOlder = db
      .delete(securityEvents)
      .where(batchRows(db, securityEvents, lt(securityEvents.lastAt, sql`${sql.placeholder("before")}`), purgeBatchRows))
      .prepare();
    // Committed with the calls' other writes (group-commit.ts), in a transaction that holds the write lock.
    this.commit = groupCommitFor(db.$client, storage.write);
  }

  async record(event: SecurityEventInput, at: Date, coalesceMs = defaultCoalesceMs): Promise<void> {
    await this.commit(() => this.write(event, at, coalesceMs));
  }

  /** Records an outcome in the transaction under way: a user's change writes the outcome of its refusal with it. */
  write(event: SecurityEventInput, at: Date, coalesceMs = defaultCoalesceMs): void {
    const columns = securityEventColumns(event);
    const fingerprint = securityEventFingerprint(columns);
    const repeat = this.selectRepeat.get(columns.userId, fingerprint, at.getTime() - coalesceMs);
    if (repeat !== undefined) this.countRepeat.run(at.getTime(), repeat);
    else this.insertEvent.run(newEntryParameters(columns, fingerprint, at, (time) => time.getTime()));
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
    return deleteInBatches(() => this.storage.write(() => this.deleteOlder.run({ before: before.getTime() }).changes));
  }
}
