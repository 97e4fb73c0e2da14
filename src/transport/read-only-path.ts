// The paths that only serve reads (the probes, /metrics, /openapi.json) answer any other method 405 with Allow, as
// HTTP asks (RFC 9110 §15.5.6), in the REST gateway's words for the same refusal. Passed on instead, a POST reached the
// API's token check and got a 401 that sent its sender looking for a token.
import { Code, ConnectError } from "@connectrpc/connect";
import type { NodeRequest, NodeResponse } from "./call-context.js";
import { restErrorResponse } from "./rest/status-json.js";

const refusal = restErrorResponse(new ConnectError("Method Not Allowed", Code.Unimplemented), { httpStatus: 405 });

export function isRead(req: NodeRequest): boolean {
  return req.method === "GET" || req.method === "HEAD";
}

/** Answers 405 and returns true unless the request is a GET or HEAD. */
export function refusedUnlessRead(req: NodeRequest, res: NodeResponse): boolean {
  if (isRead(req)) return false;
  res.writeHead(refusal.status, { ...refusal.headers, allow: "GET, HEAD", "cache-control": "no-store" });
  res.end(refusal.body);
  return true;
}
