// CORS for browser clients (gRPC-Web, Connect, REST): only configured origins, with the headers those protocols use.
import { cors as connectCors } from "@connectrpc/connect";
import type { NodeRequest, NodeResponse } from "./call-context.js";

const allowedMethods = [...new Set([...connectCors.allowedMethods, "GET", "POST", "PUT", "PATCH", "DELETE"])].join(", ");
// X-Zitadel-Orgid: the organization a ZITADEL client acts in, for the calls that take it from there (AddHumanUser).
const allowedHeaders = [...connectCors.allowedHeaders, "Authorization", "X-Request-Id", "X-Zitadel-Orgid"].join(", ");
// Retry-After: how long a limit's refusal says to wait (a login page must show it); WWW-Authenticate: what a 401 asks.
const exposedHeaders = [...connectCors.exposedHeaders, "X-Request-Id", "Retry-After", "WWW-Authenticate"].join(", ");

/** Adds CORS headers for an allowed origin; answers preflight requests itself (returns true). */
export function applyCors(
  allowedOrigins: readonly string[],
  req: NodeRequest,
  res: NodeResponse,
): boolean {
  const origin = req.headers.origin;
  if (!origin || allowedOrigins.length === 0) return false;
  if (!allowedOrigins.includes("*") && !allowedOrigins.includes(origin)) return false;
  res.setHeader("Access-Control-Allow-Origin", origin);
  res.setHeader("Vary", "Origin");
  res.setHeader("Access-Control-Expose-Headers", exposedHeaders);
  if (req.method !== "OPTIONS" || !req.headers["access-control-request-method"]) return false;
  res.writeHead(204, {
    "Access-Control-Allow-Methods": allowedMethods,
    "Access-Control-Allow-Headers": allowedHeaders,
    "Access-Control-Max-Age": "7200",
  });
  res.end();
  return true;
}
