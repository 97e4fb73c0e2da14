// Behind a reverse proxy every connection comes from the proxy, and the client is what the proxy wrote into
// X-Forwarded-For. A client can send that header itself, so it is believed only from the proxies --trusted-proxies
// names, and only as far back as the chain runs through them: the client is the nearest address no trusted proxy has.
import type { IncomingMessage } from "node:http";
import proxyAddr from "@fastify/proxy-addr";
import ipaddr from "ipaddr.js";
import { callOf } from "../call-scope.js";
import { coalesceRepeats } from "../log-repeats.js";
import type { Logger } from "../logger.js";
import type { NodeHandler, NodeRequest } from "./call-context.js";

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

/**
 * Calls `onIgnored` with the peer's address for each request that carries X-Forwarded-For from a peer that is no
 * trusted proxy: the header is rightly not believed, but a proxy in front that --trusted-proxies does not name looks
 * exactly like that, and every client behind it is then one client to the logs and the per-client limits.
 */
export function noticeIgnoredForwarding(
  handler: NodeHandler,
  isTrustedProxy: ClientAddresses["isTrustedProxy"],
  onIgnored: (peerAddress: string) => void,
): NodeHandler {
  return (req, res) => {
    const peer = req.socket.remoteAddress;
    if (req.headers["x-forwarded-for"] !== undefined && peer !== undefined && !isTrustedProxy(peer)) onIgnored(peer);
    handler(req, res);
  };
}

/** A hint, not an alarm: an hour between lines for one peer is enough to be seen. */
const ignoredForwardingIntervalMs = 3_600_000;
/** Peers warned of within the hour: a proxy or two is the case to tell; clients that forge the header are not news. */
const ignoredForwardingMaxPeers = 16;

const ignoredForwardingWarning =
  "X-Forwarded-For ignored from a peer not in --trusted-proxies: if it is a proxy in front, name it there, or every client behind it is logged and limited as one";

/** Warns of a peer's ignored X-Forwarded-For: the first at once, then at most once an hour per peer with the count. */
export function warnOfIgnoredForwarding(logger: Pick<Logger, "warn">): (peerAddress: string) => void {
  const warn = coalesceRepeats<string>(
    (peerAddress, requests) => logger.warn(ignoredForwardingWarning, { peerAddress, count: requests, setting: "--trusted-proxies" }),
    { intervalMs: ignoredForwardingIntervalMs, maxKeys: ignoredForwardingMaxPeers },
  );
  return (peerAddress) => warn(peerAddress, peerAddress);
}
