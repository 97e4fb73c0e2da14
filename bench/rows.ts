// The rows of the bench's table: verifyd over each protocol, its wrong-code and AddHumanUser paths, the peers
// written by hand that the issue measures it against, and verifyd in two processes on one SQLite file, and on
// PostgreSQL in one process and in two.
import type { Protocol, Rpc, Workload } from "./load/load-job.js";

/** "verifyd" runs on SQLite; "×2": two processes on one database, called in turn. */
export type Target = "verifyd" | "verifyd ×2" | "verifyd PostgreSQL" | "verifyd PostgreSQL ×2" | "grpc-js peer" | "Fastify peer";

export type Database = "verifyd's SQLite" | "verifyd's PostgreSQL" | "the peers'";

/** Where each target's users are: runs on one database never share a user (user-pools.ts). */
export const databaseOf: Record<Target, Database> = {
  verifyd: "verifyd's SQLite",
  "verifyd ×2": "verifyd's SQLite",
  "verifyd PostgreSQL": "verifyd's PostgreSQL",
  "verifyd PostgreSQL ×2": "verifyd's PostgreSQL",
  "grpc-js peer": "the peers'",
  "Fastify peer": "the peers'",
};

/** How many server processes a target runs, each called in turn. */
export const processesOf: Record<Target, number> = {
  verifyd: 1,
  "verifyd ×2": 2,
  "verifyd PostgreSQL": 1,
  "verifyd PostgreSQL ×2": 2,
  "grpc-js peer": 1,
  "Fastify peer": 1,
};

export interface Row {
  /** Unique; what the ratios refer to. */
  id: string;
  target: Target;
  protocol: Protocol;
  rpc: Rpc;
  workload: Workload;
  /**
   * Left out of `--quick` (unless named with `--rows`), to keep it under two minutes on a fresh checkout, first build
   * included: each of two processes needs a warm-up of its own, and PostgreSQL's rows a database seeded for them
   * (together about 27 s of a quick run that took 116 s with them). None of them is a goal of the issue.
   */
  fullRunOnly?: true;
  /**
   * A peer's: the verifyd row whose fixed rate (half of verifyd's peak) the peer is held at as well, after its own. The
   * issue's p99 goal is at verifyd's half peak; the peer's p99 at that same rate, on the same two cores and with the
   * same load generator, says how much of verifyd's is the machine's rather than verifyd's.
   */
  sameRateAs?: Row["id"];
}

// In the order they run. The machine's speed drifts within minutes, so the two rows of each ratio run one after the
// other where they can: verifyd's gRPC row between its wrong code and the grpc-js peer, each REST row beside its peer.
export const rows: readonly Row[] = [
  { id: "verifyd-connect", target: "verifyd", protocol: "connect", rpc: "verify-phone", workload: "success" },
  { id: "verifyd-grpc-web", target: "verifyd", protocol: "grpc-web", rpc: "verify-phone", workload: "success" },
  { id: "verifyd-grpc-wrong", target: "verifyd", protocol: "grpc", rpc: "verify-phone", workload: "wrong-code" },
  { id: "verifyd-grpc", target: "verifyd", protocol: "grpc", rpc: "verify-phone", workload: "success" },
  { id: "grpc-js-peer", target: "grpc-js peer", protocol: "grpc", rpc: "verify-phone", workload: "success", sameRateAs: "verifyd-grpc" },
  { id: "verifyd-rest", target: "verifyd", protocol: "rest", rpc: "verify-phone", workload: "success" },
  { id: "fastify-peer", target: "Fastify peer", protocol: "rest", rpc: "verify-phone", workload: "success", sameRateAs: "verifyd-rest" },
  { id: "verifyd-grpc-add", target: "verifyd", protocol: "grpc", rpc: "add-human-user", workload: "success" },
  { id: "grpc-js-peer-add", target: "grpc-js peer", protocol: "grpc", rpc: "add-human-user", workload: "success" },
  { id: "verifyd-rest-add", target: "verifyd", protocol: "rest", rpc: "add-human-user", workload: "success" },
  { id: "fastify-peer-add", target: "Fastify peer", protocol: "rest", rpc: "add-human-user", workload: "success" },
  { id: "verifyd-x2-grpc", target: "verifyd ×2", protocol: "grpc", rpc: "verify-phone", workload: "success", fullRunOnly: true },
  { id: "verifyd-x2-rest", target: "verifyd ×2", protocol: "rest", rpc: "verify-phone", workload: "success", fullRunOnly: true },
  { id: "verifyd-postgres-grpc", target: "verifyd PostgreSQL", protocol: "grpc", rpc: "verify-phone", workload: "success", fullRunOnly: true },
  { id: "verifyd-postgres-rest", target: "verifyd PostgreSQL", protocol: "rest", rpc: "verify-phone", workload: "success", fullRunOnly: true },
  { id: "verifyd-postgres-x2-grpc", target: "verifyd PostgreSQL ×2", protocol: "grpc", rpc: "verify-phone", workload: "success", fullRunOnly: true },
  { id: "verifyd-postgres-x2-rest", target: "verifyd PostgreSQL ×2", protocol: "rest", rpc: "verify-phone", workload: "success", fullRunOnly: true },
];

export const protocolNames: Record<Protocol, string> = { grpc: "gRPC", "grpc-web": "gRPC-Web", connect: "Connect", rest: "REST" };

export function describeRow(row: Row): string {
  const call = row.rpc === "verify-phone" ? `VerifyPhone${row.workload === "wrong-code" ? " wrong code" : ""}` : "AddHumanUser+send_code";
  return `${row.target} ${protocolNames[row.protocol]} ${call}`;
}

/** The outcome every call of the row must have. */
export function expectedOutcome(row: Row): string {
  // INVALID_ARGUMENT, as ZITADEL answers a wrong code.
  return row.workload === "wrong-code" ? "code 3" : "ok";
}
