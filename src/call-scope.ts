// The call a request is for: what its access line (transport/access-log.ts) says, noted by the layers that learn it
// (its RPC, its caller, its outcome). Kept beside the request object and passed by hand, not in an
// AsyncLocalStorage: on Node 20 an AsyncLocalStorage in use makes every promise of the process run a hook, which
// cost about a tenth of a VerifyPhone's CPU (see the README's performance section). So a log line written on behalf
// of a call names its `requestId` itself.

export interface CallRecord {
  requestId: string;
  /** grpc, grpc-web, connect, rest or kii. */
  protocol: string;
  /** `zitadel.user.v2.UserService/VerifyPhone`, or `Kii/VerifyPhone` for Kii's API; absent for other paths. */
  rpc?: string;
  /** gRPC's code name (`ok`, `invalid_argument`); absent where the answer is only an HTTP status (Kii, the login). */
  code?: string;
  /** Who sent the request: the connection's address, or behind a trusted proxy the client it forwarded for. */
  clientAddress: string | undefined;
  /** The authenticated user's id, or an application's caller id (`app:3f9c0a71`); absent for anonymous calls. */
  callerId?: string;
  /**
   * The user the call is about: the one it names (`user_id`), or the one it created. The delivery log lines name the
   * user a message is for, so a message can be traced to the calls that made it.
   */
  userId?: string;
}

// On the request object itself rather than in a WeakMap keyed by it: V8's scavenges keep the values of a WeakMap that
// lives in the old generation alive, so every call's record outlived the call and was promoted, to be freed only by a
// full collection (README, performance, step 23).
const callKey = Symbol("verifyd call");
type WithCall = { [callKey]?: CallRecord };

/** `request` (Node's request object) is for `call` from now on. */
export function beginCall(request: object, call: CallRecord): void {
  (request as WithCall)[callKey] = call;
}

export function callOf(request: object): CallRecord | undefined {
  return (request as WithCall)[callKey];
}

/** Adds what a layer learned about the request's call; for a request outside of the access log, nothing. */
export function noteCall(request: object, facts: Partial<Omit<CallRecord, "requestId">>): void {
  const call = callOf(request);
  if (call) Object.assign(call, facts);
}
