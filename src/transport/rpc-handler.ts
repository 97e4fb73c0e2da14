// Serves gRPC, gRPC-Web and Connect for the registered services, like connect-node's connectNodeAdapter, with two
// additions: gRPC-Web's text mode (application/grpc-web-text, see grpc-web-text.ts), which connect-es refuses, and
// one correction: a request body that is not valid protobuf is the client's mistake, InvalidArgument (HTTP 400 over
// Connect) on every protocol, where connect-es says Internal (see malformed-message.ts).
import {
  Code,
  ConnectError,
  type ContextValues,
  type Interceptor,
  type ServiceImplSpec,
  createConnectRouter,
} from "@connectrpc/connect";
import {
  compressionBrotli,
  compressionGzip,
  universalRequestFromNodeRequest,
  universalResponseToNodeResponse,
} from "@connectrpc/connect-node";
import type { Logger } from "../logger.js";
import type { NodeHandler, NodeRequest } from "./call-context.js";
import { fromGrpcWebText, isGrpcWebText, toGrpcWebText } from "./grpc-web-text.js";
import { correctMalformedMessage } from "./malformed-message.js";

export interface RpcHandlerOptions {
  services: ServiceImplSpec[];
  interceptors: Interceptor[];
  readMaxBytes: number;
  contextValues: (req: NodeRequest) => ContextValues;
  /** Requests for paths that are no procedure of ours. */
  fallback: NodeHandler;
  logger: Logger;
}

export function createRpcHandler(options: RpcHandlerOptions): NodeHandler {
  const router = createConnectRouter({
    interceptors: options.interceptors,
    readMaxBytes: options.readMaxBytes,
    acceptCompression: [compressionGzip, compressionBrotli],
  });
  for (const service of options.services) {
    // Each spec pairs a method with its implementation; through the union of kinds TypeScript cannot see that.
    for (const spec of Object.values(service.methods)) router.rpc(spec.method, spec.impl as never);
  }
  const handlers = new Map(router.handlers.map((handler) => [handler.requestPath, handler]));
  return (req, res) => {
    const handler = handlers.get((req.url ?? "").split("?", 1)[0] ?? "");
    if (!handler) {
      options.fallback(req, res);
      return;
    }
    const request = universalRequestFromNodeRequest(req, res, undefined, options.contextValues(req));
    const isText = isGrpcWebText(request.header.get("content-type"));
    handler(isText ? fromGrpcWebText(request) : request)
      .then(correctMalformedMessage)
      .then((response) => universalResponseToNodeResponse(isText ? toGrpcWebText(response) : response, res))
      .catch((reason: unknown) => {
        if (ConnectError.from(reason).code !== Code.Aborted) {
          options.logger.error("rpc handler failed", { procedure: handler.requestPath, error: reason });
        }
      });
  };
}
