// Server reflection reads out the contract and nothing else, and the contract is public: ZITADEL publishes its
// .proto files and ours are in this repository. So reflection needs no token, as on gRPC's own servers, and tools
// can discover the RPCs before anyone has handed them a token. It still answers only the allowed host names.
import type { NodeRequest } from "./call-context.js";
import { pathOf } from "./request-path.js";

const reflectionServices = ["/grpc.reflection.v1.ServerReflection/", "/grpc.reflection.v1alpha.ServerReflection/"];

export function isReflectionCall(req: NodeRequest): boolean {
  const path = pathOf(req);
  return reflectionServices.some((service) => path.startsWith(service));
}
