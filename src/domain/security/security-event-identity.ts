// What makes two security outcomes the same one: everything recorded about them but the time, each value bounded. The
// security log counts a repeat on the entry it repeats (both dialects), and the server's log writes one line for a
// minute of repeats (security-recorder.ts), both by this fingerprint.
import { hash } from "node:crypto";
import type { SecurityEventInput } from "./security-event.js";

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

/** Cut between code points, never inside a surrogate pair. */
function bounded(value: string): string {
  // A string has at least as many UTF-16 units as code points: most values need no cut, and no split to tell.
  if (value.length <= maxValueLength) return value;
  const codePoints = [...value];
  return codePoints.length > maxValueLength ? `${codePoints.slice(0, maxValueLength).join("")}…` : value;
}
