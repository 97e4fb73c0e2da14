// Health checks are answered to anyone, under any host name: orchestrator probes carry no token and address a pod by
// its IP, and the answer reveals only whether the server serves, and what keeps it from being ready.
import type { NodeRequest } from "./call-context.js";
import { pathOf } from "./request-path.js";
import { isProbe } from "./probe-endpoint.js";

export function isHealthCheck(req: NodeRequest): boolean {
  return pathOf(req).startsWith("/grpc.health.v1.Health/") || isProbe(req);
}
