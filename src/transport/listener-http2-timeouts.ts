// HTTP/2 has no headersTimeout/requestTimeout of its own: without these a slow client could hold a
// stream (one of maxConcurrentStreams) or a whole session open forever.
import http2 from "node:http2";

type Http2AnyServer = http2.Http2Server | http2.Http2SecureServer;

/** Resets (RST_STREAM CANCEL) a stream whose client has not finished sending its request in time. */
export function limitHttp2RequestTime(server: Http2AnyServer, requestTimeoutMs: number): void {
  server.on("stream", (stream) => {
    const timer = setTimeout(() => {
      // remoteClose: the client has sent END_STREAM; a slow handler is not the client's fault.
      if (!stream.destroyed && !stream.state.remoteClose) stream.close(http2.constants.NGHTTP2_CANCEL);
    }, requestTimeoutMs);
    stream.once("close", () => clearTimeout(timer));
  });
}
