// The calls of the HTTP APIs that are no RPCs (Kii's, the token endpoint) in the call metrics and the access log,
// counted when the answer is sent, by its HTTP status: their errors are statuses, and the set of them is small.
import { noteCall } from "../call-scope.js";
import type { CallMetrics } from "../metrics/call-metrics.js";
import type { NodeRequest, NodeResponse } from "./call-context.js";

export function observeHttpCall(
  req: NodeRequest,
  res: NodeResponse,
  call: { service: string; method: string; protocol: string },
  calls: CallMetrics,
): void {
  noteCall(req, { rpc: `${call.service}/${call.method}` });
  const started = performance.now();
  res.once("close", () => {
    const code = res.headersSent ? String(res.statusCode) : "canceled";
    calls.observe({ ...call, code }, (performance.now() - started) / 1000);
  });
}
