// Connections closed at once, before any request, and HTTP/2 streams reset with REFUSED_STREAM before any handler saw
// them, for a limit on connections or on open streams. A proxy in front shows its clients a 502 for them and cannot
// say why: these counters and the warnings are the only trace they leave.
import { Counter, type Registry } from "prom-client";
import { coalesceRepeats } from "../log-repeats.js";
import type { Logger } from "../logger.js";

/** Which limit refused the connection: the client address's share, or --max-connections in all. */
export type ConnectionRefusal = "per_client" | "max_connections";

export type ConnectionRefusalCounter = (reason: ConnectionRefusal) => void;

/** Which limit refused the stream: the client address's share of --max-open-streams, or --max-open-streams in all. */
export type StreamRefusal = "per_client" | "max_open_streams";

export type StreamRefusalCounter = (reason: StreamRefusal) => void;

export function createConnectionRefusalMetrics(registry: Registry): ConnectionRefusalCounter {
  return createRefusalCounter(
    registry,
    "verifyd_connections_refused_total",
    "Connections closed on arrival, before any request, by the limit that refused them: per_client (--max-connections-per-client) or max_connections (--max-connections).",
  );
}

export function createStreamRefusalMetrics(registry: Registry): StreamRefusalCounter {
  return createRefusalCounter(
    registry,
    "verifyd_streams_refused_total",
    "HTTP/2 streams (calls) reset with REFUSED_STREAM before any handler saw them, by the limit that refused them: per_client (a client address's share of --max-open-streams) or max_open_streams (--max-open-streams).",
  );
}

function createRefusalCounter<R extends string>(registry: Registry, name: string, help: string): (reason: R) => void {
  const refused = new Counter({ name, help, labelNames: ["reason"] as const, registers: [registry] });
  return (reason) => refused.inc({ reason });
}

/** A flood of refusals is one line a minute per limit, not one each. */
const warningIntervalMs = 60_000;

/**
 * Counts each refusal, and warns of them: the first at once, then at most once a minute per limit, with how many
 * were refused since the last line. Without addresses: the per-client share is judged on the proxy's, and a flood's
 * addresses would be a line each.
 */
export function reportRefusedConnections(count: ConnectionRefusalCounter, logger: Pick<Logger, "warn">): ConnectionRefusalCounter {
  const message = "connections refused: a limit on connections was reached (a proxy in front answers its clients 502 for them)";
  return reportRefusals(count, logger, message, {
    per_client: "--max-connections-per-client",
    max_connections: "--max-connections",
  });
}

/** As reportRefusedConnections, for HTTP/2 streams. */
export function reportRefusedStreams(count: StreamRefusalCounter, logger: Pick<Logger, "warn">): StreamRefusalCounter {
  const message = "streams refused: a limit on open HTTP/2 calls was reached (REFUSED_STREAM, which a client may retry; a proxy in front may answer 502)";
  return reportRefusals(count, logger, message, {
    // Behind a proxy --trusted-proxies does not name, every call is the proxy's, and one share is all its clients get.
    per_client: "--max-open-streams, shared out by --max-connections-per-client of --max-connections (behind a proxy: --trusted-proxies)",
    max_open_streams: "--max-open-streams",
  });
}

function reportRefusals<R extends string>(
  count: (reason: R) => void,
  logger: Pick<Logger, "warn">,
  message: string,
  settingOf: Record<R, string>,
): (reason: R) => void {
  const warn = coalesceRepeats<R>((reason, refused) => logger.warn(message, { reason, count: refused, setting: settingOf[reason] }), {
    intervalMs: warningIntervalMs,
    maxKeys: Object.keys(settingOf).length,
  });
  return (reason) => {
    count(reason);
    warn(reason, reason);
  };
}
