// What every handler and interceptor may know about the HTTP request behind a call, whichever protocol carried it.
import { type ContextValues, type HandlerContext, createContextKey } from "@connectrpc/connect";
import type { CallRecord } from "../call-scope.js";
import type { Principal } from "../domain/access/principal.js";

export type WireProtocol = "grpc" | "grpc-web" | "connect" | "rest";

export interface RequestContext {
  /** Correlates a call's log lines; sent back as x-request-id. */
  requestId: string;
  protocol: WireProtocol;
  peer: { address: string; port: number };
  /** The HTTP request headers as received (for REST, the REST request's headers). */
  headers: Headers;
  /** One of them (a repeated header's values joined by ", ", as `headers` has them), without building `headers`. */
  header(name: string): string | undefined;
  /** What the call's access line will say, for the layers that learn it; absent outside of the access log. */
  call?: CallRecord;
}

/** A request header of the call: from the HTTP request when the call has one, else from the handler's context. */
export function requestHeaderOf(ctx: HandlerContext, name: string): string | undefined {
  const context = ctx.values.get(requestContextKey);
  return context ? context.header(name) : (ctx.requestHeader.get(name) ?? undefined);
}

/** The request id of the call whose context values these are, for its log lines. */
export function requestIdIn(values: { get: ContextValues["get"] }): string | undefined {
  return values.get(requestContextKey)?.requestId;
}

export const requestContextKey = createContextKey<RequestContext | undefined>(undefined, {
  description: "HTTP request behind the call",
});

/** The authenticated caller, set at the edge from the bearer token before the call starts (absent for health). */
export const principalKey = createContextKey<Principal | undefined>(undefined, {
  description: "authenticated caller",
});
