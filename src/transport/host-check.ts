// DNS rebinding: a web page can make its own name resolve to this server's address and then read the answers as
// its own origin, which CORS cannot stop since the browser sees no cross-origin request. The browser still sends
// the page's name as Host (:authority in HTTP/2), so answering only the names this server goes by closes that door.
import { isIP } from "node:net";
import { Code, ConnectError } from "@connectrpc/connect";
import type { NodeHandler, NodeRequest, NodeResponse } from "./call-context.js";
import { answerError, framingOf } from "./error-answer.js";
import { isHealthCheck } from "./health-check-request.js";
import { restErrorResponse } from "./rest/status-json.js";

// A name or an IPv4 address, or an IPv6 address in brackets; then an optional port.
const hostAndPort = /^(?:\[([0-9a-f:.]+)\]|([^[\]:]+))(?::\d*)?$/i;

/**
 * Answers 421 Misdirected Request to requests for any other host than allowedHosts (["*"]: any host); health checks
 * pass under any name.
 */
export function withHostCheck(allowedHosts: readonly string[], handler: NodeHandler): NodeHandler {
  if (allowedHosts.includes("*")) return handler;
  const allowed = new Set(allowedHosts.map(hostName));
  // Clients name the same few hosts call after call, so each name is judged once; up to a bound, since names come
  // from clients.
  const verdicts = new Map<string, boolean>();
  const isAllowed = (authority: string): boolean => {
    const remembered = verdicts.get(authority);
    if (remembered !== undefined) return remembered;
    const host = hostOf(authority);
    const verdict = host !== undefined && allowed.has(host);
    if (verdicts.size < maxRememberedAuthorities) verdicts.set(authority, verdict);
    return verdict;
  };
  return (req, res) => {
    const authority = authorityOf(req);
    if ((authority !== undefined && isAllowed(authority)) || isHealthCheck(req)) return handler(req, res);
    refuse(req, res, authority);
  };
}

const maxRememberedAuthorities = 256;

function authorityOf(req: NodeRequest): string | undefined {
  const authority = req.headers[":authority"] ?? req.headers.host;
  return typeof authority === "string" ? authority : undefined;
}

/** The host name in a Host or :authority value, without its port; undefined when the value is not one. */
function hostOf(authority: string): string | undefined {
  const match = hostAndPort.exec(authority);
  const host = match?.[1] ?? match?.[2];
  return host === undefined ? undefined : hostName(host);
}

// Host names compare case-insensitively, and "localhost." is the fully qualified spelling of "localhost".
function hostName(host: string): string {
  return host
    .toLowerCase()
    .replace(/^\[(.*)\]$/, "$1")
    .replace(/\.$/, "");
}

// Listing the name a proxy sends for itself would let through every request it forwards, whatever name its client used.
const proxyHint =
  "; a proxy in front must forward the client's Host instead (nginx: proxy_set_header Host $host; grpc_set_header Host $host): listing its upstream name lets every request through";

/**
 * Whether a refused name looks like the one a proxy sends when not told to forward the client's (nginx sends its
 * upstream's): an address, a loopback name, a bare service name such as `verifyd`, or any name with this server's own
 * port. Names a browser is sent to carry a dot, and the port of the proxy rather than the server's.
 */
function isProxysOwnName(authority: string, serverPort: number | undefined): boolean {
  const match = hostAndPort.exec(authority);
  const host = match?.[1] ?? match?.[2];
  if (host === undefined) return false;
  const name = hostName(host);
  const port = /:(\d+)$/.exec(authority)?.[1];
  return (
    isIP(name) !== 0 ||
    name === "localhost" ||
    name.endsWith(".localhost") ||
    !name.includes(".") ||
    (port !== undefined && Number(port) === serverPort)
  );
}

/**
 * 421 over HTTP, the body in the shape the caller reads errors in: REST's google.rpc.Status (a numeric code), else
 * Connect's error JSON. gRPC and gRPC-Web clients read a status from trailers and took a bare 421 for UNKNOWN, without
 * its explanation: they get PermissionDenied in gRPC's own framing.
 */
function refuse(req: NodeRequest, res: NodeResponse, authority: string | undefined): void {
  const named = authority === undefined ? "requests without Host or :authority" : `host ${JSON.stringify(authority)}`;
  const hint = authority !== undefined && isProxysOwnName(authority, req.socket.localPort) ? proxyHint : "";
  const message = `this server does not answer for ${named}; list the names clients use with --allowed-hosts (VERIFYD_ALLOWED_HOSTS)${hint}`;
  const framing = framingOf(req);
  if (framing === "grpc") return answerError(req, res, new ConnectError(message, Code.PermissionDenied));
  const body =
    framing === "rest"
      ? restErrorResponse(new ConnectError(message, Code.PermissionDenied)).body
      : JSON.stringify({ code: "permission_denied", message });
  res.writeHead(421, { "content-type": "application/json" });
  res.end(body);
}
