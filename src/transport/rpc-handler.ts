// Serves gRPC, gRPC-Web and Connect for the registered services, like connect-node's connectNodeAdapter, with one
// correction: connect-es reports a Connect request body that is not valid protobuf as `internal` (HTTP 500), while
// the same mistake in JSON is `invalid_argument` (and connect-go says invalid_argument for both). A client's
// malformed message is its mistake, so that answer becomes invalid_argument (HTTP 400). gRPC keeps Internal, as
// grpc-go does.
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
import { type UniversalServerResponse, createAsyncIterable } from "@connectrpc/connect/protocol";
import type { Logger } from "../logger.js";
import type { NodeHandler, NodeRequest } from "./call-context.js";

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
    handler(universalRequestFromNodeRequest(req, res, undefined, options.contextValues(req)))
      .then(asClientMistake)
      .then((response) => universalResponseToNodeResponse(response, res))
      .catch((reason: unknown) => {
        if (ConnectError.from(reason).code !== Code.Aborted) {
          options.logger.error("rpc handler failed", { procedure: handler.requestPath, error: reason });
        }
      });
  };
}

/** Only Connect's unary error bodies are JSON; a 500 is rare enough to read in full here. */
async function asClientMistake(response: UniversalServerResponse): Promise<UniversalServerResponse> {
  const isConnectError = response.header?.get("content-type") === "application/json" && !response.header.has("content-encoding");
  if (response.status !== 500 || !isConnectError || !response.body) return response;
  const chunks: Uint8Array[] = [];
  for await (const chunk of response.body) chunks.push(chunk);
  const bytes = Buffer.concat(chunks);
  const error = JSON.parse(bytes.toString("utf8")) as { code?: string; message?: string };
  if (error.code !== "internal" || !error.message?.startsWith("parse binary: ")) {
    return { ...response, body: createAsyncIterable([bytes]) };
  }
  const body = Buffer.from(JSON.stringify({ code: "invalid_argument", message: error.message }));
  const header = new Headers(response.header);
  header.set("content-length", String(body.byteLength));
  return { ...response, status: 400, header, body: createAsyncIterable([body]) };
}
