// A TCP proxy between verifyd and its PostgreSQL server, so that a test can make the database unreachable (every
// connection cut, new ones refused), or the network to it hang, and all well again without touching the server other
// tests share.
import { type Server, type Socket, createConnection, createServer } from "node:net";
import type { AddressInfo } from "node:net";

export interface TcpProxy {
  port: number;
  /** Cuts every open connection and refuses new ones, as a stopped server would. */
  cut(): Promise<void>;
  /** Listens on the same port again. */
  restore(): Promise<void>;
  /**
   * From now on holds every byte either way on the open connections, and on new ones, as a network that hangs: nothing
   * is lost, nothing arrives, no connection closes. With `fromClientContaining`, only once a client sends those bytes,
   * as a process stopped just before it sends them: what came before them goes through.
   */
  freeze(fromClientContaining?: string): void;
  /** Lets the held bytes through, and everything after them. */
  thaw(): void;
  close(): Promise<void>;
}

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  const sockets = new Set<Socket>();
  let server: Server | undefined;
  const listen = (port: number) =>
    new Promise<number>((resolve, reject) => {
      server = createServer((client) => {
        const upstream = createConnection(target);
        for (const socket of [client, upstream]) {
          sockets.add(socket);
          socket.on("close", () => sockets.delete(socket));
          socket.on("error", () => undefined);
        }
        relay(client, upstream, "from-client");
        relay(upstream, client, "from-server");
        client.on("close", () => upstream.destroy());
        upstream.on("close", () => client.destroy());
      });
      server.once("error", reject);
      server.listen(port, "127.0.0.1", () => resolve((server?.address() as AddressInfo).port));
    });
  const stop = () =>
    new Promise<void>((resolve) => {
      for (const socket of sockets) socket.destroy();
      if (!server) return resolve();
      server.close(() => resolve());
      server = undefined;
    });
  // Bytes held while frozen, in the order they came, each with where it goes.
  let frozen = false;
  let trigger: Buffer | undefined;
  const held: { to: Socket; chunk: Buffer }[] = [];
  const relay = (from: Socket, to: Socket, direction: "from-client" | "from-server") => {
    from.on("data", (chunk: Buffer) => {
      if (!frozen && trigger !== undefined && direction === "from-client" && chunk.includes(trigger)) frozen = true;
      if (frozen) held.push({ to, chunk });
      else to.write(chunk);
    });
  };
  const port = await listen(0);
  return {
    port,
    cut: stop,
    restore: async () => void (await listen(port)),
    freeze(fromClientContaining) {
      if (fromClientContaining === undefined) frozen = true;
      else trigger = Buffer.from(fromClientContaining);
    },
    thaw() {
      frozen = false;
      trigger = undefined;
      for (const { to, chunk } of held.splice(0)) if (!to.destroyed) to.write(chunk);
    },
    close: stop,
  };
}
