// Builds the RequestContext for calls arriving over gRPC, gRPC-Web and Connect (REST builds its own).
import { createContextValues } from "@connectrpc/connect";
import type { ConnectNodeAdapterOptions } from "@connectrpc/connect-node";
import type { RequestContext, WireProtocol } from "../api/request-context.js";
import { requestContextKey } from "../api/request-context.js";
import { type CallRecord, callOf } from "../call-scope.js";
import { requestIdOf } from "./request-id.js";

/** connect-node's handler signature: Node's http or http2 request and response. */
export type NodeHandler = NonNullable<ConnectNodeAdapterOptions["fallback"]>;
export type NodeRequest = Parameters<NodeHandler>[0];
export type NodeResponse = Parameters<NodeHandler>[1];

export function protocolOf(contentType: string | undefined): Exclude<WireProtocol, "rest"> {
  if (contentType?.startsWith("application/grpc-web")) return "grpc-web";
  if (contentType?.startsWith("application/grpc")) return "grpc";
  return "connect";
}

export function nodeHeaders(req: NodeRequest): Headers {
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (name.startsWith(":") || value === undefined) continue;
    for (const item of Array.isArray(value) ? value : [value]) headers.append(name, item);
  }
  return headers;
}

export function requestContextOf(req: NodeRequest, protocol: WireProtocol): RequestContext {
  return new NodeRequestContext(req, protocol);
}

/**
 * A class rather than an object literal with a getter: a getter written in a per-call literal turns each call's object
 * into a dictionary with an accessor pair in the old generation, which kept the call's request alive until a full
 * collection (README, performance, step 23).
 */
class NodeRequestContext implements RequestContext {
  readonly requestId: string;
  readonly call?: CallRecord;
  readonly peer: { address: string; port: number };
  private headersRead: Headers | undefined;

  constructor(
    private readonly req: NodeRequest,
    readonly protocol: WireProtocol,
  ) {
    const call = callOf(req);
    // The id the access log gave the request (outside of it, in tests of the handlers alone, one of its own).
    this.requestId = call?.requestId ?? requestIdOf(req);
    if (call) this.call = call;
    // Behind a trusted proxy, the client it forwarded for (client-address.ts); the port is then the proxy's.
    this.peer = { address: call?.clientAddress ?? req.socket.remoteAddress ?? "", port: req.socket.remotePort ?? 0 };
  }

  /** Built when first read, as few calls read it: a WHATWG Headers per call showed in `npm run bench -- --profile`. */
  get headers(): Headers {
    this.headersRead ??= nodeHeaders(this.req);
    return this.headersRead;
  }

  header(name: string): string | undefined {
    const value = this.req.headers[name];
    return Array.isArray(value) ? value.join(", ") : value;
  }
}

export function rpcContextValues(req: NodeRequest) {
  return createContextValues().set(requestContextKey, requestContextOf(req, protocolOf(req.headers["content-type"])));
}
