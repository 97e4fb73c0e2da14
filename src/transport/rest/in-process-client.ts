// Calls a router's RPCs in-process, through the same interceptors as calls over the wire.
//
// createRouterTransport would do, but its in-memory HTTP client drops the caller's context values before they reach
// the handler, and REST calls must carry their RequestContext. So this speaks the Connect protocol (binary) to the
// router's universal handlers directly, with the context values on each server request.
import type { DescMethodUnary, DescService, Message } from "@bufbuild/protobuf";
import {
  Code,
  ConnectError,
  type ConnectRouter,
  type ContextValues,
  type Interceptor,
  type UnaryResponse,
  createConnectRouter,
} from "@connectrpc/connect";
import { type UniversalHandlerFn, createAsyncIterable, createMethodUrl } from "@connectrpc/connect/protocol";
import { createTransport } from "@connectrpc/connect/protocol-connect";

export interface InProcessCall {
  header: Headers;
  contextValues: ContextValues;
  /** Aborts the call, e.g. when the HTTP client goes away. */
  signal: AbortSignal;
}

export interface InProcessClient {
  /** The services the routes registered. */
  services: DescService[];
  /** Resolves with the response headers, trailers and message; rejects with the handler's ConnectError. */
  unary(method: DescMethodUnary, request: Message, call: InProcessCall): Promise<UnaryResponse>;
}

export function createInProcessClient(
  routes: (router: ConnectRouter) => void,
  interceptors: Interceptor[],
): InProcessClient {
  const router = createConnectRouter({ interceptors, connect: true, grpc: false, grpcWeb: false });
  routes(router);
  const handlers = new Map(router.handlers.map((handler) => [handler.requestPath, handler]));

  const transportFor = (handle: UniversalHandlerFn, contextValues: ContextValues) =>
    createTransport({
      httpClient: async (request) => {
        const response = await handle({
          httpVersion: "2.0",
          url: request.url,
          method: request.method,
          header: request.header,
          body: request.body ?? createAsyncIterable([]),
          signal: request.signal ?? new AbortController().signal,
          contextValues,
        });
        return {
          status: response.status,
          header: new Headers(response.header),
          trailer: new Headers(response.trailer),
          body: response.body ?? createAsyncIterable([]),
        };
      },
      baseUrl: "http://in-process",
      useBinaryFormat: true,
      interceptors: [],
      acceptCompression: [],
      sendCompression: null,
      compressMinBytes: Number.MAX_SAFE_INTEGER,
      readMaxBytes: Number.MAX_SAFE_INTEGER,
      writeMaxBytes: Number.MAX_SAFE_INTEGER,
    });

  return {
    services: [...new Set(router.handlers.map((handler) => handler.service))],
    async unary(method, request, call) {
      const handle = handlers.get(createMethodUrl("/", method));
      if (handle === undefined) {
        throw new ConnectError(`${method.parent.typeName}.${method.name} is not implemented`, Code.Unimplemented);
      }
      const transport = transportFor(handle, call.contextValues);
      return transport.unary(method, call.signal, undefined, call.header, request, call.contextValues);
    },
  };
}
