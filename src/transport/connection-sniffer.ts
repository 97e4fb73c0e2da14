// Tells an HTTP/2 prior-knowledge connection from an HTTP/1.1 one by its first bytes, because Node's
// cleartext HTTP/2 server cannot fall back to HTTP/1.1 by itself.
import type net from "node:net";

export type WireVersion = "h2" | "http/1.1";

const http2Preface = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "latin1");

export interface SniffOptions {
  /** A socket that has not given itself away within this time is destroyed. */
  timeoutMs: number;
  /** Called with the socket paused and its first bytes put back, ready for the server of that version. */
  onVersion: (version: WireVersion) => void;
  onError: (error: Error) => void;
}

export function sniffConnection(socket: net.Socket, options: SniffOptions): void {
  let received = Buffer.alloc(0);
  const timer = setTimeout(() => socket.destroy(), options.timeoutMs);

  const onData = (chunk: Buffer) => {
    received = Buffer.concat([received, chunk]);
    const version = versionOf(received);
    if (version === undefined) return;
    stop();
    socket.pause();
    socket.unshift(received);
    options.onVersion(version);
  };
  // A client that hangs up halfway through the preface has nothing left to serve.
  const onEnd = () => socket.destroy();
  const stop = () => {
    clearTimeout(timer);
    socket.off("data", onData);
    socket.off("end", onEnd);
    socket.off("error", options.onError);
  };

  socket.on("data", onData);
  socket.on("end", onEnd);
  socket.on("error", options.onError);
  socket.once("close", stop);
}

/** undefined while the bytes so far are still a prefix of the HTTP/2 preface. */
function versionOf(received: Buffer): WireVersion | undefined {
  const length = Math.min(received.length, http2Preface.length);
  if (!received.subarray(0, length).equals(http2Preface.subarray(0, length))) return "http/1.1";
  return length === http2Preface.length ? "h2" : undefined;
}
