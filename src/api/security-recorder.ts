// Records security outcomes on behalf of the calls they happen in, in the security log and in the server's log (where
// the redaction masks numbers and addresses in login names; the request id ties the line to its call). The log
// serves the call, never the other way round: a write that fails is a warning in the server's log, and the call goes
// on as if it had succeeded.
//
// The server's log counts repeats as the security log does: the first occurrence of an outcome is a line at once,
// its repeats within the next minute one line with their count (`repeats`), so a client refused a thousand times a
// second writes a line a minute, not a thousand a second; the security log keeps the exact count either way.
import type { Clock } from "../domain/ports.js";
import type { SecurityEventInput, SecurityEventKind, SecurityLog } from "../domain/security/security-event.js";
import { defaultCoalesceMs, securityEventColumns, securityEventFingerprint } from "../domain/security/security-event-identity.js";
import { coalesceRepeats } from "../log-repeats.js";
import type { Logger } from "../logger.js";

/**
 * Never rejects. `requestId`: the call the event happened in, for its log line. `stored`: the event is in the security
 * log already, committed with the change that refused the call (DomainError.loggedSecurityEvents); only its line is written.
 */
export type SecurityRecorder = (event: SecurityEventInput, requestId?: string, stored?: boolean) => Promise<void>;

export interface SecurityRecorderDeps {
  log: SecurityLog;
  clock: Clock;
  logger: Pick<Logger, "info" | "warn">;
  /** Distinct outcomes whose repeats are counted at once; beyond them, lines are not written one by one. */
  maxCountedOutcomes?: number;
}

/** Refusals, limits and lockouts are warnings; logins, tokens, roles and applications are the normal course. */
const warnings: ReadonlySet<SecurityEventKind> = new Set([
  "login.failed",
  "permission.denied",
  "limit.reached",
  "code.failed",
  "contact.locked",
]);

/** About 5 MB at most: an outcome's fields are bounded (security-event-identity.ts). */
const defaultMaxCountedOutcomes = 10_000;

interface Occurrence {
  event: SecurityEventInput;
  requestId: string | undefined;
}

export function createSecurityRecorder(deps: SecurityRecorderDeps): SecurityRecorder {
  const logLine = securityLogLines(deps.logger, deps.maxCountedOutcomes ?? defaultMaxCountedOutcomes);
  const notRecorded = coalesceRepeats<{ kind: SecurityEventKind; requestId: string | undefined; error: unknown }>(
    ({ kind, requestId, error }, occurrences) =>
      deps.logger.warn("security event not recorded", { kind, ...callOf(requestId), ...repeatsOf(occurrences), error }),
    { intervalMs: defaultCoalesceMs, maxKeys: 100 },
  );
  return async (event, requestId, stored = false) => {
    logLine(event, requestId);
    if (stored) return;
    try {
      await deps.log.record(event, deps.clock.now());
    } catch (error) {
      notRecorded(event.kind, { kind: event.kind, requestId, error });
    }
  };
}

function securityLogLines(logger: SecurityRecorderDeps["logger"], maxCountedOutcomes: number) {
  const uncounted = coalesceRepeats<null>(
    (_, occurrences) =>
      logger.warn("security events not logged one by one: too many distinct outcomes within a minute (each is in the security log)", {
        count: occurrences,
      }),
    { intervalMs: defaultCoalesceMs, maxKeys: 1 },
  );
  const line = coalesceRepeats<Occurrence>(
    ({ event, requestId }, occurrences) => {
      const level = warnings.has(event.kind) ? "warn" : "info";
      logger[level]("security event", { ...event, ...callOf(requestId), ...repeatsOf(occurrences) });
    },
    { intervalMs: defaultCoalesceMs, maxKeys: maxCountedOutcomes, overflow: () => uncounted("", null) },
  );
  return (event: SecurityEventInput, requestId: string | undefined) =>
    line(securityEventFingerprint(securityEventColumns(event)), { event, requestId });
}

const callOf = (requestId: string | undefined) => (requestId === undefined ? {} : { requestId });

/** A line for repeats says how many it stands for; the first occurrence's line is as it always was. */
const repeatsOf = (occurrences: number) => (occurrences === 1 ? {} : { repeats: occurrences });
