// The security log in PostgreSQL. A repeat of an outcome within its coalescing window raises the count of the entry it
// repeats instead of adding one. Processes sharing the database record the same outcome at the same moment: the
// lookup and the write run in one transaction under an advisory lock on the outcome's fingerprint, so the second
// waits for the first and then finds its entry, instead of each adding one.
import { and, asc, count, desc, eq, gte, lt, sql } from "drizzle-orm";
import type { SecurityEventInput, SecurityLog } from "../../domain/security/security-event.js";
import type { SecurityEventPage, SecurityEventQuery, SecurityLogReader } from "../../domain/security/security-log-query.js";
import { defaultCoalesceMs, securityEventColumns, securityEventFingerprint, securityEventOf } from "../security-event-row.js";
import { securityLogCondition } from "../security-log-condition.js";
import { type StorageGuard, unmonitoredStorage } from "../storage-health.js";
import type { PgDb } from "./open-postgres.js";
import { securityEvents } from "./schema.js";

// The first key of the two-key advisory locks on fingerprints (the second is the fingerprint's hash): a number no
// other code uses as first key ("vfys" in ASCII). A collision of hashes only makes two outcomes wait for each other.
const fingerprintLockSpace = 0x76667973;

export class PostgresSecurityLog implements SecurityLog, SecurityLogReader {
  constructor(
    private readonly db: PgDb,
    private readonly storage: StorageGuard = unmonitoredStorage,
  ) {}

  async record(event: SecurityEventInput, at: Date, coalesceMs = defaultCoalesceMs): Promise<void> {
    const columns = securityEventColumns(event);
    const fingerprint = securityEventFingerprint(columns);
    await this.storage.write(() =>
      this.db.transaction(async (tx) => {
        await tx.execute(sql`SELECT pg_advisory_xact_lock(${fingerprintLockSpace}::int4, hashtext(${fingerprint}))`);
        const [repeat] = await tx
          .select({ id: securityEvents.id })
          .from(securityEvents)
          .where(and(eq(securityEvents.fingerprint, fingerprint), gte(securityEvents.lastAt, new Date(at.getTime() - coalesceMs))))
          .orderBy(desc(securityEvents.lastAt), desc(securityEvents.id))
          .limit(1);
        if (repeat) {
          await tx
            .update(securityEvents)
            .set({
              count: sql`${securityEvents.count} + 1`,
              // A clock set back must not move an entry's last occurrence back.
              lastAt: sql`greatest(${securityEvents.lastAt}, ${sql.param(at, securityEvents.lastAt)})`,
            })
            .where(eq(securityEvents.id, repeat.id));
        } else {
          await tx.insert(securityEvents).values({ ...columns, at, lastAt: at, count: 1, fingerprint });
        }
      }),
    );
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
    const result = await this.storage.write(() => this.db.delete(securityEvents).where(lt(securityEvents.lastAt, before)));
    return result.rowCount ?? 0;
  }
}
