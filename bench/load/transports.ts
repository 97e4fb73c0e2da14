// The load generator's connections: HTTP/2 connections carrying many streams each (raw-http2.ts), or kept-alive
// HTTP/1.1 connections (node:http) carrying one call at a time; several servers taking turns at the calls.
import http from "node:http";
import { RawHttp2Connection, encodeHeaderBlock } from "./raw-http2.js";
import type { WireCall, WireResponse } from "./wire-calls.js";

export interface Transport {
  /** `slot` picks the connection (HTTP/2); HTTP/1.1 takes whichever kept-alive connection is free. */
  send(slot: number, call: WireCall): Promise<WireResponse>;
  close(): void;
}

export function http2Transport(url: string, connections: number, token: string): Transport {
  const { hostname, port, host } = new URL(url);
  const sessions = Array.from({ length: connections }, () => new RawHttp2Connection(hostname, Number(port)));
  const authorization = `Bearer ${token}`;
  // A protocol's calls share one headers object (wire-calls.ts) and an RPC's one path: each block is encoded once.
  const headerBlocks = new WeakMap<WireCall["headers"], Map<string, Buffer>>();
  const headerBlockOf = ({ headers, path }: WireCall) => {
    const byPath = headerBlocks.get(headers) ?? new Map<string, Buffer>();
    headerBlocks.set(headers, byPath);
    let block = byPath.get(path);
    if (!block) {
      block = encodeHeaderBlock({ ":method": "POST", ":scheme": "http", ":authority": host, ":path": path, ...headers, authorization });
      byPath.set(path, block);
    }
    return block;
  };
  return {
    async send(slot, call) {
      const session = sessions[slot % connections] as RawHttp2Connection;
      const response = await session.request(headerBlockOf(call), call.body);
      return { status: Number(response.headers[":status"]), headers: response.headers, trailers: response.trailers, body: response.body };
    },
    close() {
      for (const session of sessions) session.close();
    },
  };
}

export function http1Transport(url: string, connections: number, token: string): Transport {
  const { hostname, port } = new URL(url);
  const agent = new http.Agent({ keepAlive: true, maxSockets: connections });
  const authorization = `Bearer ${token}`;
  return {
    send(_slot, call) {
      return new Promise((resolve, reject) => {
        const request = http.request(
          {
            agent,
            hostname,
            port,
            method: "POST",
            path: call.path,
            headers: { ...call.headers, authorization, "content-length": call.body.length },
          },
          (response) => {
            const chunks: Buffer[] = [];
            response.on("data", (chunk: Buffer) => chunks.push(chunk));
            response.on("end", () => resolve({ status: response.statusCode ?? 0, headers: response.headers, trailers: {}, body: Buffer.concat(chunks) }));
            response.on("error", reject);
          },
        );
        request.on("error", reject);
        request.end(call.body);
      });
    },
    close: () => agent.destroy(),
  };
}

/** Several servers behind one client: each call goes to the next in turn, however busy it still is. */
export function roundRobin(transports: readonly Transport[]): Transport {
  let next = 0;
  return {
    send(slot, call) {
      const transport = transports[next++ % transports.length] as Transport;
      return transport.send(slot, call);
    },
    close() {
      for (const transport of transports) transport.close();
    },
  };
}
