// Records security outcomes on behalf of the calls they happen in. The log serves the call, never the other way
// round: a write that fails is a warning in the server's log, and the call goes on as if it had succeeded.
import type { Clock } from "../domain/ports.js";
import type { SecurityEventInput, SecurityLog } from "../domain/security/security-event.js";
import type { Logger } from "../logger.js";

/** Never rejects. */
export type SecurityRecorder = (event: SecurityEventInput) => Promise<void>;

export interface SecurityRecorderDeps {
  log: SecurityLog;
  clock: Clock;
  logger: Pick<Logger, "warn">;
}

export function createSecurityRecorder(deps: SecurityRecorderDeps): SecurityRecorder {
  return async (event) => {
    try {
      await deps.log.record(event, deps.clock.now());
    } catch (error) {
      // The kind only: the detail names users and login names, which the server's log does not otherwise carry.
      deps.logger.warn("security event not recorded", { kind: event.kind, error });
    }
  };
}
