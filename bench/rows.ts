// The rows of the bench's table: verifyd over each protocol, its wrong-code and AddHumanUser paths, and the peers
// written by hand that the issue measures it against.
import type { Protocol, Rpc, Workload } from "./load/load-job.js";

export type Target = "verifyd" | "grpc-js peer" | "Fastify peer";

export interface Row {
  /** Unique; what the ratios refer to. */
  id: string;
  target: Target;
  protocol: Protocol;
  rpc: Rpc;
  workload: Workload;
}

export const rows: readonly Row[] = [
  { id: "verifyd-grpc", target: "verifyd", protocol: "grpc", rpc: "verify-phone", workload: "success" },
  { id: "verifyd-connect", target: "verifyd", protocol: "connect", rpc: "verify-phone", workload: "success" },
  { id: "verifyd-grpc-web", target: "verifyd", protocol: "grpc-web", rpc: "verify-phone", workload: "success" },
  { id: "verifyd-rest", target: "verifyd", protocol: "rest", rpc: "verify-phone", workload: "success" },
  { id: "verifyd-grpc-wrong", target: "verifyd", protocol: "grpc", rpc: "verify-phone", workload: "wrong-code" },
  { id: "grpc-js-peer", target: "grpc-js peer", protocol: "grpc", rpc: "verify-phone", workload: "success" },
  { id: "fastify-peer", target: "Fastify peer", protocol: "rest", rpc: "verify-phone", workload: "success" },
  { id: "verifyd-grpc-add", target: "verifyd", protocol: "grpc", rpc: "add-human-user", workload: "success" },
  { id: "verifyd-rest-add", target: "verifyd", protocol: "rest", rpc: "add-human-user", workload: "success" },
  { id: "grpc-js-peer-add", target: "grpc-js peer", protocol: "grpc", rpc: "add-human-user", workload: "success" },
  { id: "fastify-peer-add", target: "Fastify peer", protocol: "rest", rpc: "add-human-user", workload: "success" },
];

const protocolNames: Record<Protocol, string> = { grpc: "gRPC", "grpc-web": "gRPC-Web", connect: "Connect", rest: "REST" };

export function describeRow(row: Row): string {
  const call = row.rpc === "verify-phone" ? `VerifyPhone${row.workload === "wrong-code" ? " wrong code" : ""}` : "AddHumanUser+send_code";
  return `${row.target} ${protocolNames[row.protocol]} ${call}`;
}

/** The outcome every call of the row must have. */
export function expectedOutcome(row: Row): string {
  // INVALID_ARGUMENT, as ZITADEL answers a wrong code.
  return row.workload === "wrong-code" ? "code 3" : "ok";
}
