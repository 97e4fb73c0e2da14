// Serves gRPC, gRPC-Web and Connect for the registered services, like connect-node's connectNodeAdapter, with two
// additions: plain unary calls in binary protobuf on a leaner path (unary-fast-path.ts), and gRPC-Web's text mode
// (application/grpc-web-text, see grpc-web-text.ts), which connect-es refuses; and one correction: a request body
// that is not valid protobuf is the client's mistake, InvalidArgument (HTTP 400 over Connect) on every protocol, where
// connect-es says Internal (see malformed-message.ts); and a 405 names the methods allowed, as HTTP asks.
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
import type { UniversalHandler, UniversalServerRequest, UniversalServerResponse } from "@connectrpc/connect/protocol";
import { callOf } from "../call-scope.js";
import type { Logger } from "../logger.js";
import type { NodeHandler, NodeRequest, NodeResponse } from "./call-context.js";
import { compressionDeflate } from "./compression-deflate.js";
import { dropFarDeadline } from "./far-deadline.js";
import { pathOf } from "./request-path.js";
import { type UnaryMethodSpec, unaryInvoker } from "./unary-call.js";
import { type UnaryMethod, serveUnary } from "./unary-fast-path.js";
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
  const acceptCompression = [compressionGzip, compressionBrotli, compressionDeflate];
  const { interceptors, readMaxBytes } = options;
  const router = createConnectRouter({ interceptors, readMaxBytes, acceptCompression });
  for (const service of options.services) {
    // Each spec pairs a method with its implementation; through the union of kinds TypeScript cannot see that.
    for (const spec of Object.values(service.methods)) router.rpc(spec.method, spec.impl as never);
  }
  const handlers = new Map(router.handlers.map((handler) => [handler.requestPath, handler]));
  const unaryMethods = new Map<string, UnaryMethod>(
    options.services.flatMap((service) =>
      Object.values(service.methods)
        .filter((spec): spec is UnaryMethodSpec => spec.kind === "unary")
        .map((spec) => [`/${spec.method.parent.typeName}/${spec.method.name}`, { spec, invoke: unaryInvoker(spec, interceptors) }] as const),
    ),
  );
  const unaryOptions = { readMaxBytes, acceptCompression, logger: options.logger };
  return (req, res) => {
    const path = pathOf(req);
    const handler = handlers.get(path);
    if (!handler) {
      options.fallback(req, res);
      return;
    }
    dropFarDeadline(req);
    const contextValues = options.contextValues(req);
    const viaConnect = (alreadyRead: Buffer[] = []) => {
      const request = universalRequestFromNodeRequest(req, res, undefined, contextValues);
      if (alreadyRead.length > 0) request.body = prefixed(alreadyRead, request.body);
      serveViaConnect(handler, request, req, res);
    };
    const unary = unaryMethods.get(path);
    if (unary && serveUnary(unary, req, res, contextValues, unaryOptions, viaConnect)) return;
    viaConnect();
  };

  function serveViaConnect(handler: UniversalHandler, request: UniversalServerRequest, req: NodeRequest, res: NodeResponse): void {
    const isText = isGrpcWebText(request.header.get("content-type"));
    handler(isText ? fromGrpcWebText(request) : request)
      .then(correctMalformedMessage)
      .then((response) => withAllowedMethods(response, handler.allowedMethods))
      .then((response) => universalResponseToNodeResponse(isText ? toGrpcWebText(response) : response, res))
      .catch((reason: unknown) => {
        if (ConnectError.from(reason).code !== Code.Aborted) {
          options.logger.error("rpc handler failed", { requestId: callOf(req)?.requestId, procedure: handler.requestPath, error: reason });
        }
      });
  }
}

/** connect-es answers a method it does not take (a GET of a procedure with side effects) 405 without `Allow`. */
function withAllowedMethods(response: UniversalServerResponse, allowed: readonly string[]): UniversalServerResponse {
  if (response.status !== 405) return response;
  const header = new Headers(response.header);
  header.set("allow", allowed.join(", "));
  return { ...response, header };
}

/** The body of a request whose first bytes were already read. */
async function* prefixed(alreadyRead: Buffer[], rest: UniversalServerRequest["body"]): AsyncGenerator<Uint8Array> {
  yield* alreadyRead;
  yield* rest as AsyncIterable<Uint8Array>;
}
