// Builds the RequestContext for calls arriving over gRPC, gRPC-Web and Connect (REST builds its own).
import { randomUUID } from "node:crypto";
import { createContextValues } from "@connectrpc/connect";
import type { ConnectNodeAdapterOptions } from "@connectrpc/connect-node";
import type { RequestContext, WireProtocol } from "../api/request-context.js";
import { requestContextKey } from "../api/request-context.js";

/** connect-node's handler signature: Node's http or http2 request and response. */
export type NodeHandler = NonNullable<ConnectNodeAdapterOptions["fallback"]>;
export type NodeRequest = Parameters<NodeHandler>[0];
export type NodeResponse = Parameters<NodeHandler>[1];

const acceptableRequestId = /^[\w.:-]{1,64}$/;

/** Reuses a caller's x-request-id when it is harmless to log, so logs correlate across services. */
export function requestIdOf(req: NodeRequest): string {
  const given = req.headers["x-request-id"];
  return typeof given === "string" && acceptableRequestId.test(given) ? given : randomUUID();
}

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
  return {
    requestId: requestIdOf(req),
    protocol,
    peer: { address: req.socket.remoteAddress ?? "", port: req.socket.remotePort ?? 0 },
    headers: nodeHeaders(req),
  };
}

export function rpcContextValues(req: NodeRequest) {
  return createContextValues().set(requestContextKey, requestContextOf(req, protocolOf(req.headers["content-type"])));
}
