// A security event as both dialects keep it in a row: the columns a new entry is written to and the event read back.
// Shared so that SQLite and PostgreSQL write and show outcomes alike; only the statements around them are the
// dialects' own.
import type { SecurityEvent, SecurityEventKind } from "../domain/security/security-event.js";
import type { SecurityEventColumns } from "../domain/security/security-event-identity.js";
import type { TimeParameter } from "./user-change-rows.js";

/** The columns a new entry is inserted with, in the order of newEntryParameters. */
export const newEntryColumnKeys = [
  "at",
  "lastAt",
  "count",
  "kind",
  "actorId",
  "clientAddress",
  "userId",
  "organizationId",
  "detail",
  "fingerprint",
] as const;

/** A new entry's values, in the order of newEntryColumnKeys; `time` gives a dialect's value of a time. */
export function newEntryParameters(columns: SecurityEventColumns, fingerprint: string, at: Date, time: TimeParameter): unknown[] {
  const { kind, actorId, clientAddress, userId, organizationId, detail } = columns;
  return [time(at), time(at), 1, kind, actorId, clientAddress, userId, organizationId, JSON.stringify(detail), fingerprint];
}

/** A security_events row as either dialect's schema reads it. */
export interface SecurityEventRow {
  id: number;
  kind: string;
  at: Date;
  lastAt: Date;
  count: number;
  actorId: string | null;
  clientAddress: string | null;
  userId: string | null;
  organizationId: string | null;
  detail: Record<string, string>;
}

export function securityEventOf(row: SecurityEventRow): SecurityEvent {
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
