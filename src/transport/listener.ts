// One TCP port for gRPC, gRPC-Web, Connect and REST: HTTP/2 and HTTP/1.1 side by side, cleartext or TLS.
import http from "node:http";
import http2 from "node:http2";
import net from "node:net";
import type { ConnectionRefusal, StreamRefusal } from "../metrics/connection-metrics.js";
import type { NodeHandler } from "./call-context.js";
import type { ClientAddresses } from "./client-address.js";
import { sniffConnection } from "./connection-sniffer.js";
import { answerClientErrors } from "./listener-client-error.js";
import { endStalledHttp2Sessions } from "./listener-http2-progress.js";
import { limitBodiesInTransit } from "./listener-bodies-in-transit.js";
import { limitOpenHttp2Streams } from "./listener-http2-streams.js";
import { trackHttp1Responses } from "./listener-http1-drain.js";
import { limitPipelinedRequests } from "./listener-http1-pipelining.js";
import { applyHttp1Limits, http2Settings, type ListenerLimits } from "./listener-limits.js";
import { limitConnectionsPerClient } from "./listener-per-client-limit.js";

export type { ListenerLimits } from "./listener-limits.js";

export interface ListenerOptions {
  handler: NodeHandler;
  limits: ListenerLimits;
  /** Whom the per-client limits count a connection and a request under (behind a trusted proxy, its clients). */
  clients: ClientAddresses;
  /** PEM. With it, HTTP/2 and HTTP/1.1 are chosen by ALPN instead of by sniffing. */
  tls?: { cert: string | Buffer; key: string | Buffer };
  /** For logging only: client and socket errors never reach the process as exceptions. */
  onClientError?: (error: Error) => void;
  /** A connection closed on arrival for a limit on connections, which the client (or the proxy in front) hears nothing of. */
  onConnectionRefused?: (reason: ConnectionRefusal) => void;
  /** An HTTP/2 stream reset with REFUSED_STREAM for a limit on open streams, before any handler saw it. */
  onStreamRefused?: (reason: StreamRefusal) => void;
}

export interface Listener {
  /** The only server that owns a port: call listen() on it. */
  server: net.Server;
  /**
   * Makes every HTTP/1.1 response from now on the last on its connection, while the port still takes calls: a client
   * then opens its next connection when it next calls, instead of sending on one the close is about to drop (a keep-alive
   * request racing that close gets ECONNRESET; an HTTP/2 client is told by GOAWAY and retries by itself).
   */
  drain(): void;
  /**
   * Stops accepting, lets in-flight requests finish, and destroys the connections left after graceMs; resolves with
   * how many it destroyed (0: every call finished in time).
   */
  close(graceMs?: number): Promise<{ destroyedConnections: number }>;
}

interface Parts {
  server: net.Server;
  http2Server: http2.Http2Server | http2.Http2SecureServer;
  /** Cleartext only: fed sockets by hand, so closing the listening server does not reach it. */
  innerHttp1Server?: http.Server;
}

export function createListener(options: ListenerOptions): Listener {
  const report = reportSafely(options.onClientError);
  const { limits } = options;
  const bodiesBounded = limitBodiesInTransit(limitPipelinedRequests(options.handler), options.clients.of, {
    maxBytes: limits.maxBodiesInTransitBytes,
    maxBodyBytes: limits.maxBodyBytes,
    maxConnections: limits.maxConnections,
    maxConnectionsPerClient: limits.maxConnectionsPerClient,
  });
  const bounded = limitOpenHttp2Streams(
    bodiesBounded,
    options.clients.of,
    {
      maxStreams: limits.maxOpenStreams,
      maxConcurrentStreams: limits.maxConcurrentStreams,
      maxConnections: limits.maxConnections,
      maxConnectionsPerClient: limits.maxConnectionsPerClient,
    },
    options.onStreamRefused ?? (() => undefined),
  );
  const http1 = trackHttp1Responses(bounded);
  const parts = options.tls
    ? createTlsServer(http1.handler, options.limits, options.tls, report)
    : createCleartextServer(http1.handler, options.limits, report);
  const { server, http2Server } = parts;
  const refused = options.onConnectionRefused ?? (() => undefined);
  server.maxConnections = options.limits.maxConnections;
  // Node closes a connection beyond maxConnections by itself, before any 'connection' event.
  server.on("drop", () => refused("max_connections"));
  limitConnectionsPerClient(server, options.limits.maxConnectionsPerClient, options.clients.isTrustedProxy, () => refused("per_client"));

  // An answer the client does not take is the mirror of a request it does not finish: the same time bounds both.
  endStalledHttp2Sessions(http2Server, {
    // The client's SETTINGS frame is the rest of the bytes that show its protocol.
    settingsTimeoutMs: options.limits.firstBytesTimeoutMs,
    idleTimeoutMs: options.limits.idleTimeoutMs,
    requestTimeoutMs: options.limits.requestTimeoutMs,
    stallTimeoutMs: options.limits.requestTimeoutMs,
  });
  http2Server.on("sessionError", report);

  const sockets = new Set<net.Socket>();
  server.on("connection", (socket: net.Socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
  });
  const sessions = new Set<http2.ServerHttp2Session>();
  http2Server.on("session", (session) => {
    sessions.add(session);
    session.once("close", () => sessions.delete(session));
  });

  return {
    server,
    drain: http1.drain,
    close: (graceMs = 5_000) =>
      new Promise<{ destroyedConnections: number }>((resolve) => {
        http1.drain();
        let destroyedConnections = 0;
        const deadline = setTimeout(() => {
          destroyedConnections = sockets.size;
          sockets.forEach((socket) => socket.destroy());
        }, graceMs);
        server.close(() => {
          clearTimeout(deadline);
          resolve({ destroyedConnections });
        });
        // Node's HTTP/1.1 close() also drops idle keep-alive connections; GOAWAY does that for HTTP/2.
        parts.innerHttp1Server?.close();
        sessions.forEach((session) => session.close());
      }),
  };
}

function createCleartextServer(
  handler: NodeHandler,
  limits: ListenerLimits,
  report: (error: Error) => void,
): Parts {
  const http1Server = http.createServer(handler);
  applyHttp1Limits(http1Server, limits);
  answerClientErrors(http1Server, report);
  // Node starts tracking connections for headersTimeout/requestTimeout when a server starts
  // listening; this one never listens itself.
  http1Server.emit("listening");

  const http2Server = http2.createServer({ settings: http2Settings(limits) }, handler);

  // allowHalfOpen as in http.createServer: a client may end its side and still wait for the response.
  const server = net.createServer({ noDelay: true, allowHalfOpen: true }, (socket) =>
    sniffConnection(socket, {
      timeoutMs: limits.firstBytesTimeoutMs,
      onError: report,
      onVersion: (version) => {
        if (version === "h2") {
          // HTTP/2 has no half-closed connections, and its session never looks at the client's FIN: as in
          // Node's own HTTP/2 server, the end of the client's side ends the socket, which frees its slot.
          socket.allowHalfOpen = false;
          // The HTTP/2 session reads the bytes put back on the socket by itself.
          http2Server.emit("connection", socket);
          return;
        }
        http1Server.emit("connection", socket);
        // The HTTP/1.1 server only listens for 'data'; it would leave the socket paused.
        socket.resume();
      },
    }),
  );
  return { server, http2Server, innerHttp1Server: http1Server };
}

function createTlsServer(
  handler: NodeHandler,
  limits: ListenerLimits,
  tls: NonNullable<ListenerOptions["tls"]>,
  report: (error: Error) => void,
): Parts {
  const server = http2.createSecureServer(
    {
      cert: tls.cert,
      key: tls.key,
      allowHTTP1: true,
      settings: http2Settings(limits),
      handshakeTimeout: limits.firstBytesTimeoutMs,
    },
    handler,
  );
  applyHttp1Limits(server, limits);
  // On this server 'clientError' also carries failed TLS handshakes.
  answerClientErrors(server, report);
  return { server, http2Server: server };
}

// A logger that throws must not take the server down with it.
function reportSafely(onClientError: ((error: Error) => void) | undefined): (error: Error) => void {
  return (error) => {
    try {
      onClientError?.(error);
    } catch {
      // Nothing better to do with a failing logger than to keep serving.
    }
  };
}
