// Records the security outcomes that RPCs end in with a domain error (security-outcomes.ts decides which). One
// interceptor sees every such error of every RPC on every protocol, so no handler can forget one. It sits inside the
// error interceptor, which then turns the error into its wire form; the caller gets the same answer whether or not
// the recording worked.
import type { Interceptor, StreamRequest, UnaryRequest } from "@connectrpc/connect";
import { DomainError } from "../domain/errors.js";
import { principalKey, requestContextKey, requestIdIn } from "./request-context.js";
import type { SecurityRecorder } from "./security-recorder.js";
import { type FailedCall, securityOutcomesOf } from "./security-outcomes.js";

export function createSecurityOutcomeInterceptor(record: SecurityRecorder): Interceptor {
  return (next) => async (req) => {
    try {
      return await next(req);
    } catch (error) {
      if (error instanceof DomainError) {
        const requestId = requestIdIn(req.contextValues);
        for (const event of securityOutcomesOf(error, failedCallOf(req))) await record(event, requestId);
      }
      throw error;
    }
  };
}

function failedCallOf(req: UnaryRequest | StreamRequest): FailedCall {
  const userId = targetUserOf(req);
  return { method: `${req.service.name}/${req.method.name}`, caller: callerOf(req), ...(userId ? { userId } : {}) };
}

/** The user behind the call's token; without one, where the call came from. */
function callerOf(req: UnaryRequest | StreamRequest): FailedCall["caller"] {
  const principal = req.contextValues.get(principalKey);
  if (principal) return { actorId: principal.userId };
  const address = req.contextValues.get(requestContextKey)?.peer.address;
  return address ? { clientAddress: address } : {};
}

/** The user a request is about, when it names one. */
function targetUserOf(req: UnaryRequest | StreamRequest): string | undefined {
  if (req.stream) return undefined;
  const { userId } = req.message as { userId?: unknown };
  return typeof userId === "string" && userId !== "" ? userId : undefined;
}
