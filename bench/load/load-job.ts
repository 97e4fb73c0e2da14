// What the orchestrator asks of the load generator, which runs in its own process: one target, protocol and call
// for the generator's life, then phases (the warm-up, the saturation run, the fixed-rate run), each answered with
// its figures.

export type Protocol = "grpc" | "grpc-web" | "connect" | "rest";
export type Rpc = "verify-phone" | "add-human-user";
/** VerifyPhone with the user's code, or with another code of the same shape; AddHumanUser has only "success". */
export type Workload = "success" | "wrong-code";

export interface GeneratorConfig {
  /** Several: processes on one database, which the generator's calls take turns at, as a round-robin balancer sends them. */
  urls: string[];
  protocol: Protocol;
  rpc: Rpc;
  workload: Workload;
  /** Sent as `authorization: Bearer <token>` with every call. */
  token: string;
}

/**
 * Closed: every slot sends its next call as soon as its last one is answered (saturation). Open: calls start at `rate`
 * per second whatever the answers (a fixed rate, which a slow server cannot hold back), and latency counts from when a
 * call was due, not from when it could be sent.
 */
export type Pacing = { mode: "closed" } | { mode: "open"; rate: number };

/** Calls for `seconds`, by user index (bench-users.ts) from `first` on, at most `limit` of them. */
export type Phase = Pacing & { seconds: number; first: number; limit: number };

export interface PhaseResult {
  /** Calls made, all answered: the users [first, first + count) are used up. */
  count: number;
  /** From the first call's start to the last answer. */
  seconds: number;
  p50Ms: number;
  p99Ms: number;
  /** "ok", "code 3" (a gRPC status code), "network: ...". */
  outcomes: Record<string, number>;
  /** The generator's own CPU time during the phase. */
  cpuSeconds: number;
}

/**
 * How a client of each protocol holds its calls, as the issue measured it: HTTP/2 carries 16 streams on each of 8
 * connections, HTTP/1.1 one call at a time on each of 32 kept-alive connections. With several URLs these are shared
 * out between them, so that the calls in flight are as many as with one.
 */
export function connectionShape(protocol: Protocol): { connections: number; callsPerConnection: number } {
  return protocol === "rest" ? { connections: 32, callsPerConnection: 1 } : { connections: 8, callsPerConnection: 16 };
}
