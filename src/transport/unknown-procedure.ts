// connect-node hands requests for unknown procedures to its fallback, which is our REST gateway. A gRPC, gRPC-Web or
// Connect client must instead get Unimplemented in its own framing, so those are answered here first.
import { type NodeRequest, type NodeResponse, protocolOf } from "./call-context.js";

const procedurePath = /^\/[A-Za-z_][\w]*(\.[A-Za-z_][\w]*)+\/[A-Za-z_]\w*$/;

/** Answers and returns true when the request is an RPC to a procedure this server does not have. */
export function answerUnknownProcedure(req: NodeRequest, res: NodeResponse): boolean {
  const contentType = req.headers["content-type"] ?? "";
  const path = (req.url ?? "").split("?")[0] ?? "";
  const message = `unknown procedure ${path}`;
  if (contentType.startsWith("application/grpc")) {
    const headers = {
      "content-type": protocolOf(contentType) === "grpc-web" ? "application/grpc-web+proto" : "application/grpc",
      "grpc-status": "12",
      "grpc-message": encodeURIComponent(message),
    };
    // Trailers-only: the status travels in the one HEADERS frame, which must also end the stream for gRPC clients.
    if ("stream" in res) res.stream.respond({ ":status": 200, ...headers }, { endStream: true });
    else res.writeHead(200, headers).end();
    return true;
  }
  const isConnect = req.headers["connect-protocol-version"] !== undefined || contentType.startsWith("application/connect+");
  if (isConnect || (procedurePath.test(path) && /^application\/(json|proto)/.test(contentType))) {
    res.writeHead(404, { "content-type": "application/json" });
    res.end(JSON.stringify({ code: "unimplemented", message }));
    return true;
  }
  return false;
}
