// Behind a reverse proxy every connection comes from the proxy, and the client is what the proxy wrote into
// X-Forwarded-For. A client can send that header itself, so it is believed only from the proxies --trusted-proxies
// names, and only as far back as the chain runs through them: the client is the nearest address no trusted proxy has.
import type { IncomingMessage } from "node:http";
import proxyAddr from "@fastify/proxy-addr";
import ipaddr from "ipaddr.js";
import { callOf } from "../call-scope.js";
import type { NodeRequest } from "./call-context.js";

export type ClientAddressResolver = (req: NodeRequest) => string | undefined;

export interface ClientAddresses {
  /** The client a request is from: the connection's address, or the client a trusted proxy forwarded it for. */
  of: ClientAddressResolver;
  /** Whether a connection's address is one of --trusted-proxies, whose connections carry many clients' calls. */
  isTrustedProxy(address: string): boolean;
}

export function createClientAddresses(trustedProxies: readonly string[]): ClientAddresses {
  if (trustedProxies.length === 0) return { of: (req) => req.socket.remoteAddress, isTrustedProxy: () => false };
  const trusted = proxyAddr.compile([...trustedProxies]);
  return {
    // A socket already gone has no address, and nothing forwarded through it can be believed. The package reads only
    // `headers` and `socket.remoteAddress`, which HTTP/2's compatibility request has as HTTP/1.1's does.
    of(req) {
      if (req.socket.remoteAddress === undefined) return undefined;
      const chain = proxyAddr.all(req as IncomingMessage, trusted);
      const client = chain[chain.length - 1];
      // What is no address (the client's own text, which a proxy that appends passes on) is not believed: the nearest
      // trusted proxy stands for the client, as it would without the header.
      return client !== undefined && ipaddr.isValid(client) ? client : chain[chain.length - 2];
    },
    isTrustedProxy: (address) => trusted(address, 0),
  };
}

/** The client's address as the access log resolved it for this request's call; the connection's outside of one. */
export function clientAddressOf(req: NodeRequest): string | undefined {
  return callOf(req)?.clientAddress ?? req.socket.remoteAddress;
}
