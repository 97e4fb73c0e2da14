// Calls service implementations in-process, through the same interceptors as calls over the wire and on the same
// unary path (unary-call.ts): each method's interceptor chain is built once, and a call's signal and headers exist
// only once something reads them. No wire encoding: the REST gateway already holds the request message.
import type { DescMethod, DescMethodUnary, DescService, Message } from "@bufbuild/protobuf";
import { Code, ConnectError, type Interceptor, type ServiceImplSpec } from "@connectrpc/connect";
import { type UnaryCall, type UnaryInvoker, type UnaryMethodSpec, unaryInvoker } from "../unary-call.js";

export interface InProcessClient {
  services: DescService[];
  /** Resolves with the response message (the call holds the response headers); rejects with the handler's error. */
  unary(method: DescMethodUnary, request: Message, call: UnaryCall): Promise<Message>;
}

export function createInProcessClient(services: ServiceImplSpec[], interceptors: Interceptor[]): InProcessClient {
  const invokers = new Map<DescMethod, UnaryInvoker>(
    services.flatMap((service) =>
      Object.values(service.methods)
        .filter((spec): spec is UnaryMethodSpec => spec.kind === "unary")
        .map((spec) => [spec.method, unaryInvoker(spec, interceptors)] as const),
    ),
  );
  return {
    services: services.map((service) => service.service),
    async unary(method, request, call) {
      const invoke = invokers.get(method);
      if (!invoke) throw new ConnectError(`${method.parent.typeName}.${method.name} is not implemented`, Code.Unimplemented);
      return invoke(call, request);
    },
  };
}
