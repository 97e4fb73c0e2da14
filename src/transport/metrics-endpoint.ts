// GET /metrics in Prometheus's text format. No token, like the probes: scrapers usually carry none, and the answer
// holds counts, codes and method names, never a user, number, address or token (every label comes from a fixed set).
import type { Registry } from "prom-client";
import type { Logger } from "../logger.js";
import type { NodeRequest, NodeResponse } from "./call-context.js";
import { isRead, refusedUnlessRead } from "./read-only-path.js";
import { pathOf } from "./request-path.js";

/** Answers and returns true for any request to /metrics: GET or HEAD, or else 405. */
export function createMetricsEndpoint(registry: Registry, logger: Logger): (req: NodeRequest, res: NodeResponse) => boolean {
  return (req, res) => {
    if (pathOf(req) !== "/metrics") return false;
    if (refusedUnlessRead(req, res)) return true;
    registry.metrics().then(
      (text) => {
        res.writeHead(200, { "content-type": registry.contentType, "cache-control": "no-store" });
        if (req.method === "HEAD") res.end();
        else res.end(text);
      },
      (error: unknown) => {
        // The outbox gauges keep their last values while the database fails (outbox-metrics.ts): this is anything else.
        logger.warn("metrics could not be collected", { error: (error as Error).message });
        res.writeHead(503, { "content-type": "text/plain; charset=utf-8", "cache-control": "no-store" });
        res.end("metrics unavailable\n");
      },
    );
    return true;
  };
}

export function isMetricsRequest(req: NodeRequest): boolean {
  return isRead(req) && pathOf(req) === "/metrics";
}

/**
 * With metrics on a port of their own or off, GET /metrics on the main port says so with 404, for an operator whose
 * scraper still points here; otherwise it would ask for a token, as any other path does.
 */
export function answerMetricsElsewhere(where: string): (req: NodeRequest, res: NodeResponse) => boolean {
  return (req, res) => {
    if (!isMetricsRequest(req)) return false;
    res.writeHead(404, { "content-type": "text/plain; charset=utf-8", "cache-control": "no-store" });
    res.end(`metrics are ${where}\n`);
    return true;
  };
}
