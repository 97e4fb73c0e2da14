// The call that code runs for, carried through every await and callback by AsyncLocalStorage instead of being passed
// by hand through every layer: each log line written on a call's behalf carries its request id (logger.ts), and the
// layers that learn what a call is (its RPC, its caller, its outcome) note it for the call's access line
// (transport/access-log.ts).
import { AsyncLocalStorage } from "node:async_hooks";

export interface CallRecord {
  requestId: string;
  /** grpc, grpc-web, connect, rest or kii. */
  protocol: string;
  /** `zitadel.user.v2.UserService/VerifyPhone`, or `Kii/VerifyPhone` for Kii's API; absent for other paths. */
  rpc?: string;
  /** gRPC's code name (`ok`, `invalid_argument`); absent where the answer is only an HTTP status (Kii, the login). */
  code?: string;
  /** The authenticated user's id, or an application's caller id (`app:3f9c0a71`); absent for anonymous calls. */
  callerId?: string;
}

const calls = new AsyncLocalStorage<CallRecord>();

export function runInCall<T>(call: CallRecord, run: () => T): T {
  return calls.run(call, run);
}

export function currentCall(): CallRecord | undefined {
  return calls.getStore();
}

/** Adds what a layer learned about the current call; outside of a call (background work) it does nothing. */
export function noteCall(facts: Partial<Omit<CallRecord, "requestId">>): void {
  const call = calls.getStore();
  if (call) Object.assign(call, facts);
}
