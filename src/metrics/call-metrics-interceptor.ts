// Counts and times every RPC on every protocol (gRPC, gRPC-Web, Connect and the REST gateway all pass the same
// interceptors). It sits outside the error interceptor, so it sees each call's final wire code, Internal included.
import { ConnectError, type Interceptor } from "@connectrpc/connect";
import { codeName } from "../api/code-names.js";
import { requestContextKey } from "../api/request-context.js";
import type { CallMetrics } from "./call-metrics.js";

export function createCallMetricsInterceptor(metrics: CallMetrics): Interceptor {
  return (next) => async (req) => {
    const started = performance.now();
    const protocol = req.contextValues.get(requestContextKey)?.protocol ?? "unknown";
    // The labels built whole at the end, not spread from a partial object: a spread per call cost a copy and a change
    // of the copy's shape (V8's CloneObjectIC and MigrateToMap in a `perf` profile).
    const observe = (code: string) =>
      metrics.observe({ service: req.service.typeName, method: req.method.name, protocol, code }, (performance.now() - started) / 1000);
    try {
      const res = await next(req);
      observe("ok");
      return res;
    } catch (error) {
      observe(codeName(ConnectError.from(error).code));
      throw error;
    }
  };
}
