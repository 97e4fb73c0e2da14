// The security log in PostgreSQL. A repeat of an outcome within its coalescing window raises the count of the entry it
// repeats instead of adding one. Processes sharing the database record the same outcome at the same moment: the
// lookup and the write run in one transaction under an advisory lock on the outcome's fingerprint, so the second
// waits for the first and then finds its entry, instead of each adding one.
import { asc, count, desc, lt } from "drizzle-orm";
import type { SecurityEventInput, SecurityLog } from "../../domain/security/security-event.js";
import type { SecurityEventPage, SecurityEventQuery, SecurityLogReader } from "../../domain/security/security-log-query.js";
import { defaultCoalesceMs, securityEventColumns, securityEventFingerprint } from "../../domain/security/security-event-identity.js";
import { newEntryColumnKeys, newEntryParameters, securityEventOf } from "../security-event-row.js";
import { securityLogCondition } from "../security-log-condition.js";
import { type StorageGuard, unmonitoredStorage } from "../storage-health.js";
import { columnList, quoted } from "../raw-statement.js";
import { type Queryable, namedStatement, rowsOf, run } from "./named-statement.js";
import type { PgDb } from "./open-postgres.js";
import { inTransaction } from "./pool-transaction.js";
import { securityEvents } from "./schema.js";
import { deleteInBatches } from "../delete-in-batches.js";
import { batchRows } from "./batch-rows.js";

// The first key of the two-key advisory locks on fingerprints (the second is the fingerprint's hash): a number no
// other code uses as first key ("vfys" in ASCII). A collision of hashes only makes two outcomes wait for each other.
const fingerprintLockSpace = 0x76667973;

// Sent by name (named-statement.ts): a wrong code records its outcome in the transaction of its failed attempt.
const events = quoted(securityEvents);
const [id, lastAt, fingerprint] = [securityEvents.id, securityEvents.lastAt, securityEvents.fingerprint].map(quoted);
const insertedColumns = newEntryColumnKeys.map((key) => securityEvents[key]);
const lockFingerprint = namedStatement(
  "security_events_lock",
  `SELECT pg_advisory_xact_lock(${fingerprintLockSpace}::int4, hashtext($1))`,
);
// Found through security_events_by_user, with the same user or with none: PostgreSQL uses an index for "= $1" and for
// "IS NULL", but not for "IS NOT DISTINCT FROM $1", so each has a statement of its own.
const userId = quoted(securityEvents.userId);
const repeatWhere = (name: string, userCondition: string, from: number) =>
  namedStatement(
    name,
    `SELECT ${id} FROM ${events} WHERE ${userCondition} AND ${fingerprint} = $${from} AND ${lastAt} >= $${from + 1} ` +
      `ORDER BY ${lastAt} DESC, ${id} DESC LIMIT 1`,
  );
const selectUserRepeat = repeatWhere("security_events_user_repeat", `${userId} = $1`, 2);
const selectUserlessRepeat = repeatWhere("security_events_userless_repeat", `${userId} IS NULL`, 1);
// A clock set back must not move an entry's last occurrence back.
const countRepeat = namedStatement(
  "security_events_count",
  `UPDATE ${events} SET ${quoted(securityEvents.count)} = ${quoted(securityEvents.count)} + 1, ${lastAt} = greatest(${lastAt}, $1) WHERE ${id} = $2`,
);
const insertEvent = namedStatement(
  "security_events_insert",
  `INSERT INTO ${events} (${columnList(insertedColumns)}) VALUES (${insertedColumns.map((_, index) => `$${index + 1}`).join(", ")})`,
);

export class PostgresSecurityLog implements SecurityLog, SecurityLogReader {
  constructor(
    private readonly db: PgDb,
    private readonly storage: StorageGuard = unmonitoredStorage,
  ) {}

  async record(event: SecurityEventInput, at: Date, coalesceMs = defaultCoalesceMs): Promise<void> {
    await this.storage.write(() => inTransaction(this.db.$client, (tx) => this.write(tx, event, at, coalesceMs)));
  }

  /** Records an outcome in the transaction on `tx`: a user's change writes the outcome of its refusal with it. */
  async write(tx: Queryable, event: SecurityEventInput, at: Date, coalesceMs = defaultCoalesceMs): Promise<void> {
    const columns = securityEventColumns(event);
    const print = securityEventFingerprint(columns);
    await run(tx, lockFingerprint, [print]);
    const since = new Date(at.getTime() - coalesceMs);
    // node-postgres returns a bigint as a string, which goes back as one.
    const [repeat] =
      columns.userId === null
        ? await rowsOf<[string]>(tx, selectUserlessRepeat, [print, since])
        : await rowsOf<[string]>(tx, selectUserRepeat, [columns.userId, print, since]);
    if (repeat) {
      await run(tx, countRepeat, [at, repeat[0]]);
      return;
    }
    await run(tx, insertEvent, newEntryParameters(columns, print, at, (time) => time));
  }

  async list(query: SecurityEventQuery): Promise<SecurityEventPage> {
    const where = securityLogCondition(securityEvents, query);
    const order = query.ascending ? asc : desc;
    return this.storage.use(async () => {
      const [counted] = await this.db.select({ total: count() }).from(securityEvents).where(where);
      const rows = await this.db
        .select()
        .from(securityEvents)
        .where(where)
        .orderBy(order(securityEvents.lastAt), order(securityEvents.id))
        .limit(query.limit)
        .offset(query.offset);
      return { total: counted?.total ?? 0, events: rows.map(securityEventOf) };
    });
  }

  /** Deletes the entries that last occurred before `before`; returns how many. */
  async purge(before: Date): Promise<number> {
    return deleteInBatches(async (limit) => {
      const batch = batchRows(this.db, securityEvents, lt(securityEvents.lastAt, before), limit);
      return (await this.storage.write(() => this.db.delete(securityEvents).where(batch))).rowCount ?? 0;
    });
  }
}
