// Records security outcomes on behalf of the calls they happen in, in the security log and in the server's log (where
// the redaction masks numbers and addresses in login names; the request id ties the line to its call). The log
// serves the call, never the other way round: a write that fails is a warning in the server's log, and the call goes
// on as if it had succeeded.
import type { Clock } from "../domain/ports.js";
import type { SecurityEventInput, SecurityEventKind, SecurityLog } from "../domain/security/security-event.js";
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
}

/** Refusals, limits and lockouts are warnings; logins, tokens, roles and applications are the normal course. */
const warnings: ReadonlySet<SecurityEventKind> = new Set([
  "login.failed",
  "permission.denied",
  "limit.reached",
  "code.failed",
  "contact.locked",
]);

export function createSecurityRecorder(deps: SecurityRecorderDeps): SecurityRecorder {
  return async (event, requestId, stored = false) => {
    const level = warnings.has(event.kind) ? "warn" : "info";
    const call = requestId === undefined ? {} : { requestId };
    deps.logger[level]("security event", { ...event, ...call });
    if (stored) return;
    try {
      await deps.log.record(event, deps.clock.now());
    } catch (error) {
      deps.logger.warn("security event not recorded", { kind: event.kind, ...call, error });
    }
  };
}
