// A security event as both dialects keep it in a row: the bounded columns an outcome is written to, the fingerprint
// that makes a repeat coalesce onto its entry, and the event read back. Shared so that SQLite and PostgreSQL cut,
// coalesce and show outcomes alike; only the statements around them are the dialects' own.
import { hash } from "node:crypto";
import type { SecurityEvent, SecurityEventInput, SecurityEventKind } from "../domain/security/security-event.js";
import type { TimeParameter } from "./user-change-rows.js";

/** How long a repeat of an outcome raises the count of the entry it repeats instead of adding one. */
export const defaultCoalesceMs = 60_000;

/**
 * Values beyond this many characters are cut: a login name or the organization id a login names is whatever a client
 * sent, and a flood of distinct 64 KiB names must not cost 64 KiB a row. Ids are at most 200 characters anyway.
 */
const maxValueLength = 200;

export type SecurityEventColumns = ReturnType<typeof securityEventColumns>;

/** The columns an outcome is stored in, each value bounded. */
export function securityEventColumns(event: SecurityEventInput) {
  const column = (value: string | undefined) => (value === undefined ? null : bounded(value));
  return {
    kind: event.kind,
    actorId: column(event.actorId),
    clientAddress: column(event.clientAddress),
    userId: column(event.userId),
    organizationId: column(event.organizationId),
    detail: boundedValues(event.detail),
  };
}

function boundedValues(detail: Readonly<Record<string, string>>): Record<string, string> {
  const values: Record<string, string> = {};
  for (const key in detail) values[key] = bounded(detail[key]!);
  return values;
}

/** What makes two outcomes the same: everything recorded about them but the time. */
export function securityEventFingerprint(columns: SecurityEventColumns): string {
  const { kind, actorId, clientAddress, userId, organizationId } = columns;
  const detail = Object.entries(columns.detail).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return hash("sha256", JSON.stringify([kind, actorId, clientAddress, userId, organizationId, detail]), "base64url");
}

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

/** Cut between code points, never inside a surrogate pair. */
function bounded(value: string): string {
  // A string has at least as many UTF-16 units as code points: most values need no cut, and no split to tell.
  if (value.length <= maxValueLength) return value;
  const codePoints = [...value];
  return codePoints.length > maxValueLength ? `${codePoints.slice(0, maxValueLength).join("")}…` : value;
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
