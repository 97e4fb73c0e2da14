// What every handler and interceptor may know about the HTTP request behind a call, whichever protocol carried it.
// The access-control interceptor will resolve the caller from these headers and the peer address.
import { createContextKey } from "@connectrpc/connect";

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
