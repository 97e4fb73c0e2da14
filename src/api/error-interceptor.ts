// The outermost interceptor: gives every call a request id, turns domain errors into their wire form, and hides
// unexpected exceptions behind a generic Internal error that is logged with the request id.
import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import { toConnectError } from "./connect-errors.js";
import { DomainError } from "../domain/errors.js";
import type { Logger } from "../logger.js";
import { requestContextKey } from "./request-context.js";

export function createErrorInterceptor(logger: Logger): Interceptor {
  return (next) => async (req) => {
    const requestId = req.contextValues.get(requestContextKey)?.requestId ?? "";
    try {
      const res = await next(req);
      if (requestId) res.header.set("x-request-id", requestId);
      return res;
    } catch (error) {
      throw withRequestId(toWireError(error, req.method.name, requestId, logger), requestId);
    }
  };
}

function toWireError(error: unknown, method: string, requestId: string, logger: Logger): ConnectError {
  if (error instanceof DomainError) return toConnectError(error);
  if (error instanceof ConnectError) return error;
  logger.error("unexpected error", { requestId, method, error });
  return new ConnectError(`Internal error; request id ${requestId}`, Code.Internal);
}

function withRequestId(error: ConnectError, requestId: string): ConnectError {
  if (requestId) error.metadata.set("x-request-id", requestId);
  return error;
}
