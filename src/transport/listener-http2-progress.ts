// An HTTP/2 session holds a connection slot for as long as it lives, and neither Node nor the client has to end it:
// a client can leave it without streams, keep its flow-control window shut so answers never leave, or ignore the
// GOAWAY that asks it to go; and HTTP/2 has no headersTimeout/requestTimeout of its own, so a stream whose request
// never ends would hold one of maxConcurrentStreams forever. This ends the streams and sessions that make no progress,
// and only those: a stream that is merely quiet (grpc.health.v1.Health/Watch sends only on change) is progress waiting
// for news, and stays. A session whose client never completes its preface is ended too: see settingsTimeoutMs. So is
// one nghttp2 has given up on for a protocol error: see givenUpByNghttp2.
// One periodic check per session covers all of it, rather than a timer per stream: a call is then timed by the
// session's watch it joins, without a timer of its own to set and clear.
import http2 from "node:http2";
import tls from "node:tls";
import type { Duplex } from "node:stream";

type Http2AnyServer = http2.Http2Server | http2.Http2SecureServer;

export interface ProgressLimits {
  /**
   * A session whose client has not sent its SETTINGS frame (the end of the client's preface, RFC 9113 §3.4) this long
   * after the session began loses its connection. That is a client that sent the 24 bytes of the preface and
   * nothing after them (one whose first frame was refused is a protocol error, ended within a check: see
   * givenUpByNghttp2).
   */
  settingsTimeoutMs: number;
  /** A session without open streams for this long is sent GOAWAY. */
  idleTimeoutMs: number;
  /**
   * A stream whose client has not finished sending its request this long after opening it is reset (RST_STREAM
   * CANCEL); the session stays. A slow handler is not the client's fault: a request sent whole is never reset.
   */
  requestTimeoutMs: number;
  /**
   * A stream whose waiting answer has not moved for this long, or a session that has not closed this long after its
   * GOAWAY with nothing left to finish, loses its connection.
   */
  stallTimeoutMs: number;
}

interface Waiting {
  bytes: number;
  since: number;
}

export function endStalledHttp2Sessions(server: Http2AnyServer, limits: ProgressLimits): void {
  onSessionWithSocket(server, (session, socket) => watch(session, socket, limits));
}

// Node hides a session's socket behind a proxy that refuses destroy(), and a session's own destroy() waits for the
// socket to flush, which a client that does not read never lets happen. Node creates the session and emits
// 'session' synchronously while handling the connection, so the socket handed over just before is its socket.
function onSessionWithSocket(server: Http2AnyServer, callback: (session: http2.ServerHttp2Session, socket: Duplex) => void): void {
  let handedOver: Duplex | undefined;
  server.prependListener(server instanceof tls.Server ? "secureConnection" : "connection", (socket: Duplex) => {
    handedOver = socket;
  });
  server.on("session", (session) => {
    if (handedOver) callback(session, handedOver);
    handedOver = undefined;
  });
}

function watch(session: http2.ServerHttp2Session, socket: Duplex, limits: ProgressLimits): void {
  /** Each open stream, and when it opened. */
  const open = new Map<http2.ServerHttp2Stream, number>();
  const waiting = new Map<http2.ServerHttp2Stream, Waiting>();
  let quietSince = Date.now();
  let closingSince: number | undefined;
  const givenUp = givenUpByNghttp2(session);

  const noSettings = setTimeout(() => socket.destroy(), limits.settingsTimeoutMs);
  noSettings.unref();
  session.once("remoteSettings", () => clearTimeout(noSettings));

  session.on("stream", (stream) => {
    open.set(stream, Date.now());
    // A stream closes once: `on` spares the wrapper `once` would build per call.
    stream.on("close", () => {
      open.delete(stream);
      waiting.delete(stream);
      if (open.size === 0) quietSince = Date.now();
    });
  });

  const check = () => {
    const now = Date.now();
    if (givenUp()) {
      // Node ends the socket once the GOAWAY is out; a client that does not take even that is the stall below.
      session.destroy();
    } else if (open.size > 0) {
      for (const [stream, openedAt] of open) {
        if (now - openedAt >= limits.requestTimeoutMs && requestUnfinished(stream)) stream.close(http2.constants.NGHTTP2_CANCEL);
      }
      if ([...open.keys()].some((stream) => outputStalled(stream, waiting, now, limits.stallTimeoutMs))) socket.destroy();
    } else if (session.closed || session.destroyed) {
      closingSince ??= now;
      if (now - closingSince >= limits.stallTimeoutMs) socket.destroy();
    } else if (now - quietSince >= limits.idleTimeoutMs) {
      session.close();
    }
  };
  const timer = setInterval(check, checkEvery(limits));
  timer.unref();
  session.once("close", () => {
    clearInterval(timer);
    clearTimeout(noSettings);
  });
}

// remoteClose: the client has sent END_STREAM.
function requestUnfinished(stream: http2.ServerHttp2Stream): boolean {
  return !stream.destroyed && !stream.closed && !stream.state.remoteClose;
}

// bufferSize counts the answer's bytes written and not yet out; PINGs, SETTINGS and their ACKs never touch it, so a
// chattering client cannot pass for one that takes its answer (Node's own stream timeout can be fooled that way).
// Node takes a write off it only once all of that write has left: an answer that moves changes it between checks,
// one that stays the same through every check for the whole timeout is stuck. The price of a count without byte
// progress: one write (one message) must leave within the timeout, and a stream that keeps equal-sized messages in
// flight back to back for that long would look stuck too. This server's answers are small and its one long stream
// (Health/Watch) writes only on change.
function outputStalled(
  stream: http2.ServerHttp2Stream,
  waiting: Map<http2.ServerHttp2Stream, Waiting>,
  now: number,
  stallTimeoutMs: number,
): boolean {
  const bytes = stream.bufferSize;
  const before = waiting.get(stream);
  if (bytes === 0) {
    waiting.delete(stream);
    return false;
  }
  if (before?.bytes !== bytes) {
    waiting.set(stream, { bytes, since: now });
    return false;
  }
  return now - before.since >= stallTimeoutMs;
}

// nghttp2 answers some connection errors (a frame longer than SETTINGS_MAX_FRAME_SIZE, a header block HPACK cannot
// decode, DATA on stream 0, a first SETTINGS frame too long) with GOAWAY and then neither reads nor writes: it leaves
// closing the connection to the application, as RFC 9113 §5.4.1 asks of the endpoint, and Node never does. Node stops
// reading the socket, so the session kept its connection slot until the idle timeout and the stall bound after it
// (90 s by default) even if the client hung up, and Node tells JavaScript nothing. Its native handle answers whether
// nghttp2 still wants to read or write (hasPendingData, as Node's own close() asks it). A session closing by its own
// GOAWAY (shutdown, idle) is Node's to end once its streams finish, and is left alone. On a Node without the method
// this answers never, and such a session is ended by the idle timeout as before.
function givenUpByNghttp2(session: http2.ServerHttp2Session): () => boolean {
  const handle = nativeHandleOf(session);
  const wantsToReadOrWrite = handle?.hasPendingData?.bind(handle);
  if (!wantsToReadOrWrite) return () => false;
  return () => !session.closed && !session.destroyed && !wantsToReadOrWrite();
}

interface NativeSession {
  hasPendingData?: () => boolean;
}

function nativeHandleOf(session: http2.ServerHttp2Session): NativeSession | undefined {
  const key = Object.getOwnPropertySymbols(session).find((symbol) => symbol.description === "kHandle");
  return key === undefined ? undefined : (session as unknown as Record<symbol, NativeSession | undefined>)[key];
}

// Several checks per timeout keep the overshoot small (a quarter of the shortest); a second apart at most ends a
// session nghttp2 has given up on within about that, and a check is a few reads.
function checkEvery(limits: ProgressLimits): number {
  const shortest = Math.min(limits.idleTimeoutMs, limits.stallTimeoutMs, limits.requestTimeoutMs);
  return Math.min(1_000, Math.max(50, Math.round(shortest / 4)));
}
