// /metrics on a port of its own (--metrics-port), for setups that keep scrapes off the port clients reach. Plain
// HTTP/1.1, as Prometheus scrapes by default; every other path is a 404.
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { StartupError } from "../startup-error.js";
import type { NodeRequest, NodeResponse } from "./call-context.js";

export interface MetricsListener {
  url: string;
  close(): Promise<void>;
}

export async function listenForMetrics(
  endpoint: (req: NodeRequest, res: NodeResponse) => boolean,
  host: string,
  port: number,
): Promise<MetricsListener> {
  const server = createServer((req, res) => {
    if (endpoint(req, res)) return;
    res.writeHead(404, { "content-type": "text/plain; charset=utf-8" });
    res.end("only /metrics is served on this port\n");
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", (error: NodeJS.ErrnoException) => {
      const where = `${host} port ${port}`;
      reject(
        error.code === "EADDRINUSE" || error.code === "EACCES"
          ? new StartupError(`cannot serve metrics on ${where} (${error.code}); choose another --metrics-port / VERIFYD_METRICS_PORT`)
          : error,
      );
    });
    server.listen(port, host, () => resolve());
  });
  const bound = (server.address() as AddressInfo).port;
  const shownHost = host.includes(":") ? `[${host}]` : host;
  return {
    url: `http://${shownHost}:${bound}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Scrapers keep connections alive between scrapes; they hold no call worth waiting for.
        server.closeAllConnections();
      }),
  };
}
