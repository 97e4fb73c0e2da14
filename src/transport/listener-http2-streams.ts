// An open HTTP/2 stream costs the process about 11 KB (nghttp2's state, Node's stream, the call's objects) before its
// request sends a single byte, which the bound on bodies in transit never sees. A client that opened 100 streams on
// each of its 99 connections and sent only their HEADERS made the process hold about 100 MB per client address until
// --request-timeout, and closing them all at once then kept it busy for half a minute. This bounds the open streams:
// in all, and per client address to the share its connections have of maxConnections, never less than one
// connection's worth. A stream beyond either is reset with REFUSED_STREAM before the handler sees it: RFC 9113 §8.7
// lets a client retry such a call, since the server did nothing with it; `onRefused` hears of each, since neither the
// client nor a proxy in front can tell which limit it was.
import http2 from "node:http2";
import type { StreamRefusal } from "../metrics/connection-metrics.js";
import type { NodeHandler } from "./call-context.js";
import type { ClientAddressResolver } from "./client-address.js";
import { type ClientShare, clientKeyOf, clientShare, createClientBudget } from "./listener-per-client-limit.js";

export interface OpenStreamsLimits extends ClientShare {
  /** HTTP/2 streams open at once, all connections together. */
  maxStreams: number;
  /** Streams one connection may open: each client may always fill one connection. */
  maxConcurrentStreams: number;
}

export function limitOpenHttp2Streams(
  handler: NodeHandler,
  clientOf: ClientAddressResolver,
  limits: OpenStreamsLimits,
  onRefused: (reason: StreamRefusal) => void,
): NodeHandler {
  const budget = createClientBudget(limits.maxStreams, clientShare(limits.maxStreams, limits.maxConcurrentStreams, limits));

  return (req, res) => {
    // A stream the client already reset will not emit 'close' again to give its count back: it holds nothing.
    if (!(req instanceof http2.Http2ServerRequest) || req.stream.destroyed) return handler(req, res);
    const client = clientKeyOf(clientOf(req) ?? "");
    if (!budget.take(client, 1)) {
      req.stream.close(http2.constants.NGHTTP2_REFUSED_STREAM);
      onRefused(budget.boundExceeded(client, 1) === "in_all" ? "max_open_streams" : "per_client");
      return;
    }
    req.stream.once("close", () => budget.release(client, 1));
    handler(req, res);
  };
}
