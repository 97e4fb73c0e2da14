// The domain outcome of each call, for whoever watches them (the metrics): success, or the domain error that refused
// it. Reported by the RPC interceptor (call-end-interceptor.ts) and by Kii's calls (kii/kii-call.ts), under the
// method's name ("VerifyPhone"), so both APIs tell the same story.
import type { DomainError } from "../domain/errors.js";

export type CallOutcomeObserver = (method: string, error?: DomainError) => void;
