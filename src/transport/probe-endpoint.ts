// Plain HTTP probes, for orchestrators and load balancers that judge by the HTTP status: GET /healthz says the process
// serves (liveness: restart it when this fails), GET /readyz whether it should be sent calls (readiness: 503 naming
// what is not ready). Liveness ignores the storage on purpose: a restart cures no full disk, and restarting every
// replica over a problem they share only adds an outage. gRPC clients have grpc.health.v1.Health for the same.
import type { Logger } from "../logger.js";
import type { NodeRequest, NodeResponse } from "./call-context.js";
import { isRead, refusedUnlessRead } from "./read-only-path.js";
import { pathOf } from "./request-path.js";

/** Named checks; each answers undefined while it passes, else a few words on what is wrong. */
export type ReadinessChecks = Record<string, () => string | undefined>;

const probePaths = ["/healthz", "/readyz"];

/** Answers and returns true for any request to a probe path: GET or HEAD, or else 405. */
export function createProbeEndpoint(
  readiness: ReadinessChecks,
  logger: Logger,
): (req: NodeRequest, res: NodeResponse) => boolean {
  return (req, res) => {
    if (!probePaths.includes(pathOf(req))) return false;
    if (refusedUnlessRead(req, res)) return true;
    if (pathOf(req) === "/healthz") {
      answer(res, 200, { status: "ALIVE" });
      return true;
    }
    const notReady = Object.fromEntries(
      Object.entries(readiness).flatMap(([name, check]) => {
        const problem = outcomeOf(name, check, logger);
        return problem === undefined ? [] : [[name, problem]];
      }),
    );
    if (Object.keys(notReady).length === 0) answer(res, 200, { status: "READY" });
    else answer(res, 503, { status: "NOT_READY", notReady });
    return true;
  };
}

export function isProbe(req: NodeRequest): boolean {
  return isRead(req) && probePaths.includes(pathOf(req));
}

function outcomeOf(name: string, check: () => string | undefined, logger: Logger): string | undefined {
  try {
    return check();
  } catch (error) {
    // Probes are answered to anyone: the error's text goes to the log only.
    logger.warn("readiness check failed", { check: name, error: (error as Error).message });
    return "could not be checked";
  }
}

function answer(res: NodeResponse, status: number, body: object): void {
  // Probes must see the state now, never an answer a cache kept.
  res.writeHead(status, { "content-type": "application/json", "cache-control": "no-store" });
  res.end(JSON.stringify(body));
}
