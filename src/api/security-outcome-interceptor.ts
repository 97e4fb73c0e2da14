// Records the security outcomes that RPCs end in with a domain error (security-outcomes.ts decides which). One
// interceptor sees every such error of every RPC on every protocol, so no handler can forget one. It sits inside the
// error interceptor, which then turns the error into its wire form; the caller gets the same answer whether or not
// the recording worked. A wrong code's outcomes are already in the security log, committed with its failed attempt
// (the handler hands the domain securityOutcomesOf for that): for those it writes the log lines of the entries the
// error carries.
import type { Interceptor, StreamRequest, UnaryRequest } from "@connectrpc/connect";
import { DomainError } from "../domain/errors.js";
import { requestIdIn } from "./request-context.js";
import type { SecurityRecorder } from "./security-recorder.js";
import { failedCallOf, securityOutcomesOf } from "./security-outcomes.js";

export function createSecurityOutcomeInterceptor(record: SecurityRecorder): Interceptor {
  return (next) => async (req) => {
    try {
      return await next(req);
    } catch (error) {
      if (error instanceof DomainError) {
        const requestId = requestIdIn(req.contextValues);
        const stored = error.loggedSecurityEvents;
        const events = stored ?? securityOutcomesOf(error, failedCallOf(req.service, req.method, req.contextValues, targetUserOf(req)));
        for (const event of events) await record(event, requestId, stored !== undefined);
      }
      throw error;
    }
  };
}

/** The user a request is about, when it names one. */
function targetUserOf(req: UnaryRequest | StreamRequest): string | undefined {
  if (req.stream) return undefined;
  const { userId } = req.message as { userId?: unknown };
  return typeof userId === "string" ? userId : undefined;
}
