// maxConnections alone lets one client take every slot; this gives each client address a share of them.
// Behind a proxy every connection comes from the proxy's address, so there the share must be as large as the whole.
import type net from "node:net";
import ipaddr from "ipaddr.js";

/**
 * Destroys a new connection at once when its address already holds maxPerClient open connections, and calls
 * `onRefused`. A trusted proxy's connections carry many clients' calls, each counted as its own client by the limits
 * on calls; they are bounded by maxConnections alone.
 */
export function limitConnectionsPerClient(
  server: net.Server,
  maxPerClient: number,
  isTrustedProxy: (address: string) => boolean,
  onRefused: () => void,
): void {
  const openByClient = new Map<string, number>();
  // First in line, so that a refused socket costs no TLS handshake or sniffing.
  server.prependListener("connection", (socket: net.Socket) => {
    // A socket that is already gone has no address, and no slot to count.
    if (socket.remoteAddress === undefined || isTrustedProxy(socket.remoteAddress)) return;
    const client = clientKeyOf(socket.remoteAddress);
    const open = openByClient.get(client) ?? 0;
    if (open >= maxPerClient) {
      socket.destroy();
      onRefused();
      return;
    }
    openByClient.set(client, open + 1);
    socket.once("close", () => {
      const left = (openByClient.get(client) ?? 1) - 1;
      if (left === 0) openByClient.delete(client);
      else openByClient.set(client, left);
    });
  });
}

/**
 * Whom a per-client limit counts an address under. An IPv6 client is its /64: one subscriber's network (RFC 6177),
 * every address of which a single host may take at will, so that counting by address would give one client as many
 * shares as it cares to use. A dual-stack listener sees IPv4 clients as IPv4-mapped IPv6 addresses: one key either way.
 */
const dottedQuad = /^(?:::ffff:)?(\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3})$/i;

export function clientKeyOf(remoteAddress: string): string {
  // The common case without parsing: ipaddr.js's objects and strings, for every call, cost a VerifyPhone 3.7 KB of
  // allocation and about 5% of its CPU (`npm run bench -- --compare-commit`, README).
  const ipv4 = dottedQuad.exec(remoteAddress);
  if (ipv4) return ipv4[1] as string;
  if (!ipaddr.isValid(remoteAddress)) return remoteAddress;
  const address = ipaddr.process(remoteAddress);
  if (address.kind() === "ipv4") return address.toString();
  const prefix = address.toByteArray().slice(0, 8);
  return `${ipaddr.fromByteArray([...prefix, 0, 0, 0, 0, 0, 0, 0, 0]).toString()}/64`;
}

export interface ClientShare {
  maxConnections: number;
  maxConnectionsPerClient: number;
}

/** What one client address may hold of `total`: the share its connections have of maxConnections, at least `leastPerClient`. */
export function clientShare(total: number, leastPerClient: number, share: ClientShare): number {
  const fraction = Math.min(1, share.maxConnectionsPerClient / share.maxConnections);
  return Math.max(leastPerClient, Math.floor(total * fraction));
}

/** Which bound of a budget a take would go beyond: the client address's share, or the total. */
export type BudgetBound = "per_client" | "in_all";

/** A count of something held (bytes, streams, logins under way), bounded in all by `total` and per client address. */
export interface ClientBudget {
  /** Holds `amount` more for `client`, or nothing and false when that would go beyond either bound. */
  take(client: string, amount: number): boolean;
  release(client: string, amount: number): void;
  /** The bound that holding `amount` more for `client` would go beyond (the total first), if any. */
  boundExceeded(client: string, amount: number): BudgetBound | undefined;
}

export function createClientBudget(total: number, maxPerClient: number): ClientBudget {
  const heldByClient = new Map<string, number>();
  let heldInAll = 0;

  const add = (client: string, amount: number) => {
    heldInAll += amount;
    const held = (heldByClient.get(client) ?? 0) + amount;
    if (held === 0) heldByClient.delete(client);
    else heldByClient.set(client, held);
  };

  const boundExceeded = (client: string, amount: number): BudgetBound | undefined => {
    if (heldInAll + amount > total) return "in_all";
    return (heldByClient.get(client) ?? 0) + amount > maxPerClient ? "per_client" : undefined;
  };

  return {
    take(client, amount) {
      if (boundExceeded(client, amount)) return false;
      add(client, amount);
      return true;
    },
    release: (client, amount) => add(client, -amount),
    boundExceeded,
  };
}
