// A call refused before it reaches its handler (no valid token) still names an RPC by its method and path: it is
// counted in the metrics under that RPC and its access line names it, as for a call the handler answered.
import type { DescMethod, DescService } from "@bufbuild/protobuf";
import type { Code } from "@connectrpc/connect";
import { callOf } from "../call-scope.js";
import { codeName } from "../api/code-names.js";
import type { CallMetrics } from "../metrics/call-metrics.js";
import type { NodeRequest } from "./call-context.js";
import { framingOf } from "./error-answer.js";
import { pathOf } from "./request-path.js";
import { createRestRouteTable } from "./rest/rest-routes.js";

export type RefusedCallObserver = (req: NodeRequest, code: Code, seconds: number) => void;

export function observeRefusedCalls(services: readonly DescService[], metrics: CallMetrics): RefusedCallObserver {
  const calledMethod = calledMethodResolver(services);
  return (req, code, seconds) => {
    const method = calledMethod(req);
    const call = callOf(req);
    // Paths that name no RPC are not counted, as when they come with a token.
    if (method === undefined || call === undefined) return;
    const service = method.parent.typeName;
    call.rpc = `${service}/${method.name}`;
    metrics.observe({ service, method: method.name, protocol: call.protocol, code: codeName(code) }, seconds);
  };
}

/** The RPC a request names, routed as the handlers behind would: an RPC path first, then a REST route. */
function calledMethodResolver(services: readonly DescService[]): (req: NodeRequest) => DescMethod | undefined {
  const byRpcPath = new Map<string, DescMethod>(
    services.flatMap((service) => service.methods.map((method) => [`/${service.typeName}/${method.name}`, method])),
  );
  const rest = createRestRouteTable(services);
  return (req) => {
    const path = pathOf(req);
    const rpc = byRpcPath.get(path);
    if (rpc || framingOf(req) !== "rest") return rpc;
    const found = rest.lookup(req.method ?? "", path);
    return found.kind === "found" ? found.route.method : undefined;
  };
}
