// The domain outcome of each call, for whoever watches them (the metrics): success, or the domain error that refused
// it. Reported by the RPC interceptor below and by Kii's calls (kii/kii-call.ts), under the method's name
// ("VerifyPhone"), so both APIs tell the same story.
import type { Interceptor } from "@connectrpc/connect";
import { DomainError } from "../domain/errors.js";

export type CallOutcomeObserver = (method: string, error?: DomainError) => void;

/** Sits inside the error interceptor, where refusals are still domain errors with their reason and metadata. */
export function createCallOutcomeInterceptor(observe: CallOutcomeObserver): Interceptor {
  return (next) => async (req) => {
    try {
      const res = await next(req);
      observe(req.method.name);
      return res;
    } catch (error) {
      if (error instanceof DomainError) observe(req.method.name, error);
      throw error;
    }
  };
}
