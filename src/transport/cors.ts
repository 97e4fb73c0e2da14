// CORS for browser clients (gRPC-Web, Connect, REST): only configured origins, with the headers those protocols use.
// A request from any other origin is refused before anything acts on it. CORS alone only keeps such a page from
// reading the answer: a form's POST (to /oauth2/token, say) is sent without asking first, and would be acted on.
import { Code, ConnectError, cors as connectCors } from "@connectrpc/connect";
import type { NodeRequest, NodeResponse } from "./call-context.js";
import { answerError } from "./error-answer.js";

const allowedMethods = [...new Set([...connectCors.allowedMethods, "GET", "POST", "PUT", "PATCH", "DELETE"])].join(", ");
// X-Zitadel-Orgid: the organization a ZITADEL client acts in, for the calls that take it from there (AddHumanUser).
const allowedHeaders = [...connectCors.allowedHeaders, "Authorization", "X-Request-Id", "X-Zitadel-Orgid"].join(", ");
// Retry-After: how long a limit's refusal says to wait (a login page must show it); WWW-Authenticate: what a 401 asks;
// Location: where Kii's registration put the user; Allow: what a 405 takes.
const exposedHeaders = [...connectCors.exposedHeaders, "X-Request-Id", "Retry-After", "WWW-Authenticate", "Location", "Allow"].join(", ");

/**
 * Adds CORS headers for an allowed origin, and answers (returning true) its preflight requests and every request
 * from an origin that is neither allowed nor this server's own (as the Host header names it: verifyd behind a proxy
 * on the site's own name). `reachedOverTls`: clients reach the server over TLS, its own or a proxy's in front.
 */
export function applyCors(allowedOrigins: readonly string[], req: NodeRequest, res: NodeResponse, reachedOverTls: boolean): boolean {
  const origin = req.headers.origin;
  if (!origin) return false;
  if (!allowedOrigins.includes("*") && !allowedOrigins.includes(origin)) {
    if (isSameOrigin(origin, req, reachedOverTls)) return false;
    const message = `the origin ${origin} may not call this server; list it in --cors-origins (VERIFYD_CORS_ORIGINS)`;
    answerError(req, res, new ConnectError(message, Code.PermissionDenied));
    return true;
  }
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

function isSameOrigin(origin: string, req: NodeRequest, reachedOverTls: boolean): boolean {
  const authority = req.headers[":authority"] ?? req.headers.host;
  if (typeof authority !== "string") return false;
  try {
    const page = new URL(origin);
    // A server reached over TLS serves no plaintext page: one on its name is anybody's (on-path, a network writes it).
    if (reachedOverTls && page.protocol !== "https:") return false;
    const server = new URL(`${page.protocol}//${authority}`);
    // Both parsed with the page's scheme, so that its default port is left out of both alike.
    return page.host === server.host;
  } catch {
    return false;
  }
}
