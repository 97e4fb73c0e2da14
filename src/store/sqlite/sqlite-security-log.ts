// The security log in SQLite. A repeat of an outcome within its coalescing window raises the count of the entry it
// repeats instead of adding one; the lookup and the write are in one transaction holding the write lock, so two
// processes sharing the file coalesce a repeat onto the same entry instead of each adding one.
import { createHash } from "node:crypto";
import { type SQL, and, asc, count, desc, eq, gte, inArray, lt, sql } from "drizzle-orm";
import type { SecurityEvent, SecurityEventInput, SecurityEventKind, SecurityLog } from "../../domain/security/security-event.js";
import type { SecurityEventPage, SecurityEventQuery, SecurityLogReader } from "../../domain/security/security-log-query.js";
import type { Db } from "./open-database.js";
import { groupCommitFor } from "./group-commit.js";
import { securityEvents } from "./schema.js";
import { type StorageGuard, unmonitoredStorage } from "../storage-health.js";

const placeholder = sql.placeholder;

const defaultCoalesceMs = 60_000;

/**
 * Values beyond this many characters are cut: a login name or the organization id a login names is whatever a client
 * sent, and a flood of distinct 64 KiB names must not cost 64 KiB a row. Ids are at most 200 characters anyway.
 */
const maxValueLength = 200;

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
      const columns = columnsOf(event);
      const fingerprint = fingerprintOf(columns);
      const repeat = this.selectRepeat.get({ fingerprint, since: at.getTime() - coalesceMs });
      if (repeat) this.countRepeat.run({ id: repeat.id, at: at.getTime() });
      else this.insertEvent.run({ ...columns, at, fingerprint });
    });
  }

  async list(query: SecurityEventQuery): Promise<SecurityEventPage> {
    const conditions: (SQL | undefined)[] = [
      query.userId === undefined ? undefined : eq(securityEvents.userId, query.userId),
      query.kinds?.length ? inArray(securityEvents.kind, [...query.kinds]) : undefined,
    ];
    const where = and(...conditions);
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
      return { total, events: rows.map(toEvent) };
    });
  }

  /** Deletes the entries that last occurred before `before`; returns how many. */
  async purge(before: Date): Promise<number> {
    return this.storage.write(() => this.deleteOlder.run({ before: before.getTime() }).changes);
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
