// What every handler and interceptor may know about the HTTP request behind a call, whichever protocol carried it.
import { createContextKey } from "@connectrpc/connect";
import type { Principal } from "../domain/access/principal.js";

export type WireProtocol = "grpc" | "grpc-web" | "connect" | "rest";

export interface RequestContext {
  /** Correlates a call's log lines; sent back as x-request-id. */
  requestId: string;
  protocol: WireProtocol;
  peer: { address: string; port: number };
  /** The HTTP request headers as received (for REST, the REST request's headers). */
  headers: Headers;
}

export const requestContextKey = createContextKey<RequestContext | undefined>(undefined, {
  description: "HTTP request behind the call",
});

/** The authenticated caller, set at the edge from the bearer token before the call starts (absent for health). */
export const principalKey = createContextKey<Principal | undefined>(undefined, {
  description: "authenticated caller",
});
