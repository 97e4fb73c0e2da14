// Answers an error before any RPC handler runs (an unknown procedure, a call without valid credentials), in the
// framing the caller speaks: gRPC and gRPC-Web as trailers-only, Connect as its JSON error, anything else as REST's
// google.rpc.Status. connect-es's own serializers write each, so details travel exactly as a handler's error would.
import type { ConnectError } from "@connectrpc/connect";
import { codeToHttpStatus, errorToJsonBytes } from "@connectrpc/connect/protocol-connect";
import { headerGrpcMessage, setTrailerStatus } from "@connectrpc/connect/protocol-grpc";
import { codeName } from "../api/code-names.js";
import { type AnswerHeaders, answerHeadersOf } from "./answer-headers.js";
import { grpcMessageValue } from "./grpc-status-trailer.js";
import { noteCall } from "../call-scope.js";
import type { NodeRequest, NodeResponse } from "./call-context.js";
import { pathOf, queryOf } from "./request-path.js";
import { restErrorResponse } from "./rest/status-json.js";

export type Framing = "grpc" | "connect" | "rest";

const procedurePath = /^\/[A-Za-z_][\w]*(\.[A-Za-z_][\w]*)+\/[A-Za-z_]\w*$/;

/** Decided from the request line and headers alone; gRPC-Web (binary and text) answers like gRPC. */
export function framingOf(req: NodeRequest): Framing {
  const contentType = req.headers["content-type"] ?? "";
  if (contentType.startsWith("application/grpc")) return "grpc";
  if (req.headers["connect-protocol-version"] !== undefined || contentType.startsWith("application/connect+")) return "connect";
  if (!procedurePath.test(pathOf(req))) return "rest";
  const isConnectGet = req.method === "GET" && new URLSearchParams(queryOf(req)).get("connect") === "v1";
  return isConnectGet || /^application\/(json|proto)/.test(contentType) ? "connect" : "rest";
}

export interface ErrorAnswerOptions {
  /** Added to the answer on every framing. */
  headers?: Record<string, string>;
  /** Overrides the Connect protocol's HTTP status for the code. */
  connectHttpStatus?: number;
}

export function answerError(req: NodeRequest, res: NodeResponse, error: ConnectError, options: ErrorAnswerOptions = {}): void {
  const headers = new Headers(options.headers);
  // The error's own, such as the Retry-After of a refusal with a wait (connect-errors.ts).
  for (const [name, value] of error.metadata) headers.set(name, value);
  noteCall(req, { code: codeName(error.code) });
  discardUpload(req);
  switch (framingOf(req)) {
    case "grpc":
      headers.set("content-type", req.headers["content-type"] ?? "application/grpc");
      setTrailerStatus(headers, error);
      headers.set(headerGrpcMessage, grpcMessageValue(error.rawMessage));
      return answerTrailersOnly(res, headers);
    case "connect": {
      headers.set("content-type", "application/json");
      return answer(res, options.connectHttpStatus ?? codeToHttpStatus(error.code), answerHeadersOf(headers), errorToJsonBytes(error, {}));
    }
    case "rest": {
      const rest = restErrorResponse(error);
      return answer(res, rest.status, { ...rest.headers, ...answerHeadersOf(headers) }, rest.body);
    }
  }
}

// The answer does not depend on the body. A small remainder of an HTTP/1.1 upload is read and dropped to keep the
// connection (closing at once would make a client still writing its request fail with EPIPE instead of reading the
// answer); a large or endless one is cut off with the connection.
const discardableBytes = 64 * 1024;

export function discardUpload(req: NodeRequest): void {
  if (req.httpVersionMajor !== 1 || req.complete) return;
  let discarded = 0;
  req.on("data", (chunk: Buffer) => {
    discarded += chunk.length;
    if (discarded > discardableBytes) req.socket.destroy();
  });
  req.resume();
}

/** The status travels in the one HEADERS frame, which must also end the stream for gRPC clients. */
function answerTrailersOnly(res: NodeResponse, headers: Headers): void {
  if (!("stream" in res)) return answer(res, 200, answerHeadersOf(headers), "");
  // respond() bypasses the response object, so headers set on it earlier (CORS) are copied in.
  res.stream.respond({ ...res.getHeaders(), ":status": 200, ...Object.fromEntries(headers) }, { endStream: true });
}

function answer(res: NodeResponse, status: number, headers: AnswerHeaders, body: string | Uint8Array): void {
  res.writeHead(status, Object.assign({}, headers, { "content-length": String(Buffer.byteLength(body)) }));
  res.end(body);
}
