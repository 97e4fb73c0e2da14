// The security log in PostgreSQL. A repeat of an outcome within its coalescing window raises the count of the entry it
// repeats instead of adding one. Processes sharing the database record the same outcome at the same moment: the
// lookup and the write run in one transaction under an advisory lock on the outcome's fingerprint, so the second
// waits for the first and then finds its entry, instead of each adding one.
import { createHash } from "node:crypto";
import { type SQL, and, asc, count, desc, eq, gte, inArray, lt, sql } from "drizzle-orm";
import type { SecurityEvent, SecurityEventInput, SecurityEventKind, SecurityLog } from "../../domain/security/security-event.js";
import type { SecurityEventPage, SecurityEventQuery, SecurityLogReader } from "../../domain/security/security-log-query.js";
import { type StorageGuard, unmonitoredStorage } from "../storage-health.js";
import type { PgDb } from "./open-postgres.js";
import { securityEvents } from "./schema.js";

const defaultCoalesceMs = 60_000;

/**
 * Values beyond this many characters are cut: a login name or the organization id a login names is whatever a client
 * sent, and a flood of distinct 64 KiB names must not cost 64 KiB a row. Ids are at most 200 characters anyway.
 */
const maxValueLength = 200;

// The first key of the two-key advisory locks on fingerprints (the second is the fingerprint's hash): a number no
// other code uses as first key ("vfys" in ASCII). A collision of hashes only makes two outcomes wait for each other.
const fingerprintLockSpace = 0x76667973;

export class PostgresSecurityLog implements SecurityLog, SecurityLogReader {
  constructor(
    private readonly db: PgDb,
    private readonly storage: StorageGuard = unmonitoredStorage,
  ) {}

  async record(event: SecurityEventInput, at: Date, coalesceMs = defaultCoalesceMs): Promise<void> {
    const columns = columnsOf(event);
    const fingerprint = fingerprintOf(columns);
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
    const conditions: (SQL | undefined)[] = [
      query.userId === undefined ? undefined : eq(securityEvents.userId, query.userId),
      query.kinds?.length ? inArray(securityEvents.kind, [...query.kinds]) : undefined,
    ];
    const where = and(...conditions);
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
      return { total: counted?.total ?? 0, events: rows.map(toEvent) };
    });
  }

  /** Deletes the entries that last occurred before `before`; returns how many. */
  async purge(before: Date): Promise<number> {
    const result = await this.storage.write(() => this.db.delete(securityEvents).where(lt(securityEvents.lastAt, before)));
    return result.rowCount ?? 0;
  }
}

/** The columns an outcome is stored in, each value bounded. */
function columnsOf(event: SecurityEventInput) {
  const column = (value: string | undefined) => (value === undefined ? null : bounded(value));
  return {
    kind: event.kind,
    actorId: column(event.actorId),
    clientAddress: column(event.clientAddress),
    userId: column(event.userId),
    organizationId: column(event.organizationId),
    detail: Object.fromEntries(Object.entries(event.detail).map(([key, value]) => [key, bounded(value)])),
  };
}

/** What makes two outcomes the same: everything recorded about them but the time. */
function fingerprintOf(columns: ReturnType<typeof columnsOf>): string {
  const { kind, actorId, clientAddress, userId, organizationId } = columns;
  const detail = Object.entries(columns.detail).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return createHash("sha256").update(JSON.stringify([kind, actorId, clientAddress, userId, organizationId, detail])).digest("base64url");
}

/** Cut between code points, never inside a surrogate pair. */
function bounded(value: string): string {
  const codePoints = [...value];
  return codePoints.length > maxValueLength ? `${codePoints.slice(0, maxValueLength).join("")}…` : value;
}

type Row = typeof securityEvents.$inferSelect;

function toEvent(row: Row): SecurityEvent {
  return {
    id: String(row.id),
    // The column holds what record() wrote: a known kind.
    kind: row.kind as SecurityEventKind,
    at: row.at,
    lastAt: row.lastAt,
    count: row.count,
    ...(row.actorId === null ? {} : { actorId: row.actorId }),
    ...(row.clientAddress === null ? {} : { clientAddress: row.clientAddress }),
    ...(row.userId === null ? {} : { userId: row.userId }),
    ...(row.organizationId === null ? {} : { organizationId: row.organizationId }),
    detail: row.detail,
  };
}
