// Health checks are answered to anyone, under any host name: orchestrator probes carry no token and address a pod by
// its IP, and the answer reveals only SERVING or NOT_SERVING.
import type { NodeRequest } from "./call-context.js";

export function isHealthCheck(req: NodeRequest): boolean {
  const path = (req.url ?? "").split("?", 1)[0] ?? "";
  return path.startsWith("/grpc.health.v1.Health/") || (path === "/healthz" && req.method === "GET");
}
