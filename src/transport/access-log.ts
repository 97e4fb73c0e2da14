// One line per call, written when its answer is complete (or the client left): what was called, over which protocol,
// the outcome, how long it took, the request id, who called and from where. At info, except health checks and
// metrics scrapes, which go to debug: a probe every second must not bury the calls. It wraps every request the port
// serves, so calls refused before any handler (no token, an unknown path) have their line too; the layers behind it
// note what they learn (call-scope.ts). At debug, each request's headers are logged as well, without their secrets.
import { type CallRecord, beginCall } from "../call-scope.js";
import type { Logger } from "../logger.js";
import type { RefusalCounter } from "../metrics/call-metrics.js";
import type { ClientAddressResolver } from "./client-address.js";
import { type NodeHandler, type NodeRequest, type NodeResponse, protocolOf } from "./call-context.js";
import { pathOf } from "./request-path.js";
import { framingOf } from "./error-answer.js";
import { isHealthCheck } from "./health-check-request.js";
import { kiiPathPrefix } from "./kii/kii-routes.js";
import { isMetricsRequest } from "./metrics-endpoint.js";
import { requestIdOf } from "./request-id.js";

// A path is logged up to this length: enough for every route, and no way for a client to write megabytes of log.
const maxLoggedPathLength = 256;

/**
 * `countRefusal` is told of each request refused before any RPC or endpoint read it (none of them names an RPC), so
 * that the metrics count what only this layer sees end to end; health checks and scrapes are not refusals.
 */
export function withAccessLog(
  logger: Logger,
  handler: NodeHandler,
  countRefusal: RefusalCounter,
  clientAddressOf: ClientAddressResolver,
): NodeHandler {
  return (req, res) => {
    const started = performance.now();
    const clientAddress = clientAddressOf(req);
    const call: CallRecord = { requestId: requestIdOf(req), protocol: wireProtocolOf(req), clientAddress };
    const connectedFrom = req.socket.remoteAddress;
    // One shape for every call (an absent field is left out of the line).
    const request = { http: requestLine(req), clientAddress, proxyAddress: connectedFrom === clientAddress ? undefined : connectedFrom };
    const level = isHealthCheck(req) || isMetricsRequest(req) ? "debug" : "info";
    res.setHeader("x-request-id", call.requestId);
    // A response closes once: `on` spares the wrapper `once` would build per call.
    res.on("close", () => {
      logger[level]("call", accessFields(call, request, res, performance.now() - started));
      if (call.rpc === undefined && level === "info" && isRefusal(call, res)) countRefusal(call.protocol, res.statusCode, call.code);
    });
    beginCall(req, call);
    logger.debug("request", { requestId: call.requestId, ...request, headers: req.headers });
    handler(req, res);
  };
}

/** An answer that went out and is not a success: an HTTP error status, or gRPC's status in a 200. */
function isRefusal(call: CallRecord, res: NodeResponse): boolean {
  return res.headersSent && (res.statusCode >= 400 || (call.code !== undefined && call.code !== "ok"));
}

/** The protocol as the headers tell it, before any handler runs; the handlers read it the same way. */
function wireProtocolOf(req: NodeRequest): string {
  if ((req.url ?? "").startsWith(kiiPathPrefix)) return "kii";
  return framingOf(req) === "rest" ? "rest" : protocolOf(req.headers["content-type"]);
}

/** `POST /v2/users/913491119095481834/phone/verify`: the method and the decoded path, without the query string. */
function requestLine(req: NodeRequest): string {
  return `${req.method} ${decoded(pathOf(req)).slice(0, maxLoggedPathLength)}`;
}

/** Decoded, so that the redaction recognises a number or address a path carries (`PHONE:%2B41…`, `ada%40…`). */
function decoded(path: string): string {
  // Most paths have nothing to decode, and decodeURIComponent copies them anyway.
  if (!path.includes("%")) return path;
  try {
    return decodeURIComponent(path);
  } catch {
    return path;
  }
}

function accessFields(
  call: CallRecord,
  request: { http: string; clientAddress: string | undefined; proxyAddress: string | undefined },
  res: NodeResponse,
  durationMs: number,
): Record<string, unknown> {
  return {
    requestId: call.requestId,
    protocol: call.protocol,
    rpc: call.rpc,
    http: request.http,
    // No answer went out: the client left (or the connection broke) first.
    ...(res.headersSent ? { code: call.code, status: res.statusCode } : { code: "canceled" }),
    durationMs: Math.round(durationMs * 10) / 10,
    callerId: call.callerId,
    userId: call.userId,
    clientAddress: request.clientAddress,
    proxyAddress: request.proxyAddress,
  };
}
