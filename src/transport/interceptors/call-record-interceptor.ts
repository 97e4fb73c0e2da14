// Notes each RPC's name, its caller and the code it ends with for the call's access line (transport/access-log.ts),
// on every protocol (the REST gateway passes the same interceptors). Outermost, like the metrics interceptor, so that
// it sees the code the client gets, Internal included.
import { ConnectError, type Interceptor } from "@connectrpc/connect";
import { codeName } from "../../api/code-names.js";
import { principalKey, requestContextKey } from "../../api/request-context.js";

export function createCallRecordInterceptor(): Interceptor {
  return (next) => async (req) => {
    const call = req.contextValues.get(requestContextKey)?.call;
    if (!call) return next(req);
    call.rpc = `${req.service.typeName}/${req.method.name}`;
    call.callerId = req.contextValues.get(principalKey)?.userId;
    try {
      const res = await next(req);
      call.code = "ok";
      return res;
    } catch (error) {
      call.code = codeName(ConnectError.from(error).code);
      throw error;
    }
  };
}
