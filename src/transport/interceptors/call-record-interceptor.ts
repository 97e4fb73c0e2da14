// Notes each RPC's name, its caller and the code it ends with for the call's access line (transport/access-log.ts),
// on every protocol (the REST gateway passes the same interceptors). Outermost, like the metrics interceptor, so that
// it sees the code the client gets, Internal included.
import { ConnectError, type Interceptor } from "@connectrpc/connect";
import { codeToString } from "@connectrpc/connect/protocol-connect";
import { principalKey } from "../../api/request-context.js";
import { noteCall } from "../../call-scope.js";

export function createCallRecordInterceptor(): Interceptor {
  return (next) => async (req) => {
    noteCall({ rpc: `${req.service.typeName}/${req.method.name}`, callerId: req.contextValues.get(principalKey)?.userId });
    try {
      const res = await next(req);
      noteCall({ code: "ok" });
      return res;
    } catch (error) {
      noteCall({ code: codeToString(ConnectError.from(error).code) });
      throw error;
    }
  };
}
