// Calls and their latency, by API surface, method, protocol and outcome. Every label value comes from the server's
// own tables (registered services and methods, protocol names, status codes), never from what a request carries,
// so no caller can make new series.
import { Counter, Histogram, type Registry } from "prom-client";

export interface CallLabels {
  /** The protobuf service's full name ("zitadel.user.v2.UserService"), or "Kii" for Kii Cloud's REST API. */
  service: string;
  method: string;
  protocol: string;
  /** The gRPC code's name ("ok", "invalid_argument"); for Kii, the HTTP status. */
  code: string;
}

export interface CallMetrics {
  observe(call: CallLabels, seconds: number): void;
}

// From a cached read (a few ms) to a slow password hash or a storage stall (seconds).
const latencyBuckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export function createCallMetrics(registry: Registry): CallMetrics {
  const calls = new Counter({
    name: "verifyd_calls_total",
    help: "Calls answered, by service, method, protocol and code.",
    labelNames: ["service", "method", "protocol", "code"] as const,
    registers: [registry],
  });
  const durations = new Histogram({
    name: "verifyd_call_duration_seconds",
    help: "Time from a call's arrival to its answer (for streams: to the start of the answer).",
    labelNames: ["service", "method", "protocol"] as const,
    buckets: latencyBuckets,
    registers: [registry],
  });
  return {
    observe({ service, method, protocol, code }, seconds) {
      calls.inc({ service, method, protocol, code });
      durations.observe({ service, method, protocol }, seconds);
    },
  };
}

/**
 * Counts a request answered before any RPC or endpoint read it: an unknown path, a wrong method, media type or size, a
 * host not allowed, a refused header block. `code` is the gRPC code's name where the answer has one.
 */
export type RefusalCounter = (protocol: string, status: number, code: string | undefined) => void;

export function createRefusalMetrics(registry: Registry): RefusalCounter {
  const refusals = new Counter({
    name: "verifyd_requests_refused_total",
    help: "Requests refused before any RPC or endpoint read them (unknown path, wrong method, media type or size, host), by protocol, HTTP status and gRPC code.",
    labelNames: ["protocol", "status", "code"] as const,
    registers: [registry],
  });
  return (protocol, status, code) => refusals.inc({ protocol, status, code: code ?? "none" });
}
