// Turns domain errors into their wire form, and hides unexpected exceptions behind a generic Internal error that is
// logged with the request id (which the access log sends back as x-request-id on every answer).
import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import { toConnectError } from "./connect-errors.js";
import { DomainError } from "../domain/errors.js";
import type { Logger } from "../logger.js";
import { requestContextKey } from "./request-context.js";

export function createErrorInterceptor(logger: Logger): Interceptor {
  return (next) => async (req) => {
    const requestId = req.contextValues.get(requestContextKey)?.requestId ?? "";
    try {
      return await next(req);
    } catch (error) {
      throw toWireError(error, req.method.name, requestId, logger);
    }
  };
}

function toWireError(error: unknown, method: string, requestId: string, logger: Logger): ConnectError {
  if (error instanceof DomainError) return toConnectError(error);
  if (error instanceof ConnectError) return error;
  logger.error("unexpected error", { requestId, method, error });
  return new ConnectError(`Internal error; request id ${requestId}`, Code.Internal);
}
