// Calls service implementations in-process, through the same interceptors as calls over the wire, with the REST
// request's context values on the handler context. Unlike createRouterTransport (whose in-memory client drops the
// caller's context values) this skips any wire encoding: the REST gateway already holds the request message.
import type { DescMethod, DescMethodUnary, DescService, Message } from "@bufbuild/protobuf";
import {
  Code,
  ConnectError,
  type ContextValues,
  type Interceptor,
  type MethodImplSpec,
  type ServiceImplSpec,
  createHandlerContext,
} from "@connectrpc/connect";
import { invokeUnaryImplementation } from "@connectrpc/connect/protocol";

export interface InProcessCall {
  /** The HTTP method and URL of the REST request, as the handler context reports them. */
  requestMethod: string;
  url: string;
  header: Headers;
  contextValues: ContextValues;
  /** Aborts the call, e.g. when the HTTP client goes away. */
  signal: AbortSignal;
}

export interface InProcessResponse {
  header: Headers;
  trailer: Headers;
  message: Message;
}

export interface InProcessClient {
  services: DescService[];
  /** Resolves with the response headers, trailers and message; rejects with the handler's error. */
  unary(method: DescMethodUnary, request: Message, call: InProcessCall): Promise<InProcessResponse>;
}

export function createInProcessClient(services: ServiceImplSpec[], interceptors: Interceptor[]): InProcessClient {
  const implementations = new Map<DescMethod, MethodImplSpec>(
    services.flatMap((service) => Object.values(service.methods).map((spec) => [spec.method, spec] as const)),
  );
  return {
    services: services.map((service) => service.service),
    async unary(method, request, call) {
      const spec = implementations.get(method);
      if (spec?.kind !== "unary") {
        throw new ConnectError(`${method.parent.typeName}.${method.name} is not implemented`, Code.Unimplemented);
      }
      const context = createHandlerContext({
        service: method.parent,
        method,
        protocolName: "rest",
        requestMethod: call.requestMethod,
        url: call.url,
        requestSignal: call.signal,
        requestHeader: call.header,
        contextValues: call.contextValues,
      });
      const message = await invokeUnaryImplementation(spec, context, request, interceptors);
      return { header: context.responseHeader, trailer: context.responseTrailer, message };
    },
  };
}
