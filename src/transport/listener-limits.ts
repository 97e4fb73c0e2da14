// Limits that keep slow or greedy clients from exhausting the listener, and how they map onto Node's servers.
import type http2 from "node:http2";

export interface ListenerLimits {
  /**
   * A connection that has not shown its protocol by then (cleartext: 24 bytes; TLS: handshake) is closed; so is an
   * HTTP/2 session whose client has not sent its SETTINGS frame this long after that.
   */
  firstBytesTimeoutMs: number;
  /** Time a client has to send complete request headers (HTTP/1.1). */
  headersTimeoutMs: number;
  /**
   * Time a client has to send a whole request, headers and body (HTTP/1.1 request, HTTP/2 stream); also the time an
   * HTTP/2 answer may wait without leaving before its connection is dropped, and the time a closed HTTP/2 session's
   * client has to hang up.
   */
  requestTimeoutMs: number;
  /** An HTTP/1.1 keep-alive connection with no traffic, or an HTTP/2 session with no open stream, for this long is closed. */
  idleTimeoutMs: number;
  /** Open connections at once, both protocols together; beyond it new sockets are closed at once. */
  maxConnections: number;
  /** Open connections at once from one client address, so that one client cannot take every slot. */
  maxConnectionsPerClient: number;
  /** HTTP/2 streams per connection. */
  maxConcurrentStreams: number;
  /** HTTP/2 streams open at once, all connections together (listener-http2-streams.ts). */
  maxOpenStreams: number;
  /** HTTP/1.1 maxHeaderSize and HTTP/2 maxHeaderListSize. */
  maxHeaderBytes: number;
  /** The largest request body or message. */
  maxBodyBytes: number;
  /** Bytes of request bodies still arriving, all calls together (listener-bodies-in-transit.ts). */
  maxBodiesInTransitBytes: number;
}

/**
 * Sets the HTTP/1.1 limits as properties, the only way the TLS server (allowHTTP1) takes them.
 * Call before the server emits "listening": that is when Node reads connectionsCheckingInterval.
 */
export function applyHttp1Limits(server: object, limits: ListenerLimits): void {
  Object.assign(server, {
    headersTimeout: limits.headersTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.idleTimeoutMs,
    maxHeaderSize: limits.maxHeaderBytes,
    // Node enforces both timeouts only when this interval fires (every 30 s by default),
    // so a coarse interval would let a slowloris client overstay by that much.
    connectionsCheckingInterval: clamp(Math.min(limits.headersTimeoutMs, limits.requestTimeoutMs) / 4, 50, 1_000),
  });
}

export function http2Settings(limits: ListenerLimits): http2.Settings {
  return { maxConcurrentStreams: limits.maxConcurrentStreams, maxHeaderListSize: limits.maxHeaderBytes };
}

function clamp(value: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, Math.round(value)));
}
