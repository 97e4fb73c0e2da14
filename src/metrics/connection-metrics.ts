// Connections closed at once, before any request, for a limit on connections. A proxy in front shows its clients a
// 502 for them and cannot say why: this counter and the warnings are the only trace they leave.
import { Counter, type Registry } from "prom-client";
import { coalesceRepeats } from "../log-repeats.js";
import type { Logger } from "../logger.js";

/** Which limit refused the connection: the client address's share, or --max-connections in all. */
export type ConnectionRefusal = "per_client" | "max_connections";

export type ConnectionRefusalCounter = (reason: ConnectionRefusal) => void;

export function createConnectionRefusalMetrics(registry: Registry): ConnectionRefusalCounter {
  const refused = new Counter({
    name: "verifyd_connections_refused_total",
    help: "Connections closed on arrival, before any request, by the limit that refused them: per_client (--max-connections-per-client) or max_connections (--max-connections).",
    labelNames: ["reason"] as const,
    registers: [registry],
  });
  return (reason) => refused.inc({ reason });
}

const settingOf: Record<ConnectionRefusal, string> = {
  per_client: "--max-connections-per-client",
  max_connections: "--max-connections",
};

/** A flood of refusals is one line a minute per limit, not one each. */
const warningIntervalMs = 60_000;

/**
 * Counts each refusal, and warns of them: the first at once, then at most once a minute per limit, with how many
 * were refused since the last line. Without addresses: the per-client share is judged on the proxy's, and a flood's
 * addresses would be a line each.
 */
export function reportRefusedConnections(count: ConnectionRefusalCounter, logger: Pick<Logger, "warn">): ConnectionRefusalCounter {
  const warn = coalesceRepeats<ConnectionRefusal>(
    (reason, refused) =>
      logger.warn("connections refused: a limit on connections was reached (a proxy in front answers its clients 502 for them)", {
        reason,
        count: refused,
        setting: settingOf[reason],
      }),
    { intervalMs: warningIntervalMs, maxKeys: Object.keys(settingOf).length },
  );
  return (reason) => {
    count(reason);
    warn(reason, reason);
  };
}
