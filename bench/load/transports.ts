// The load generator's connections, with nothing but node:http2 and node:http: HTTP/2 sessions carrying many streams
// each, or kept-alive HTTP/1.1 connections carrying one call at a time; several servers taking turns at the calls.
import http from "node:http";
import http2 from "node:http2";
import type { WireCall, WireResponse } from "./wire-calls.js";

export interface Transport {
  /** `slot` picks the connection (HTTP/2); HTTP/1.1 takes whichever kept-alive connection is free. */
  send(slot: number, call: WireCall): Promise<WireResponse>;
  close(): void;
}

export function http2Transport(url: string, connections: number, token: string): Transport {
  const sessions = Array.from({ length: connections }, () => {
    const session = http2.connect(url);
    // A session that fails fails its streams, which report it; without a listener the error would end the process.
    session.on("error", () => undefined);
    return session;
  });
  const authorization = `Bearer ${token}`;
  return {
    send(slot, call) {
      return new Promise((resolve, reject) => {
        const session = sessions[slot % connections] as http2.ClientHttp2Session;
        let stream: http2.ClientHttp2Stream;
        try {
          stream = session.request({ ":method": "POST", ":path": call.path, ...call.headers, authorization });
        } catch (error) {
          return reject(error);
        }
        let status = 0;
        let headers: WireResponse["headers"] = {};
        let trailers: WireResponse["trailers"] = {};
        const chunks: Buffer[] = [];
        stream.on("response", (received) => {
          headers = received;
          status = Number(received[":status"]);
        });
        stream.on("trailers", (received) => {
          trailers = received;
        });
        stream.on("data", (chunk: Buffer) => chunks.push(chunk));
        stream.on("end", () => resolve({ status, headers, trailers, body: Buffer.concat(chunks) }));
        stream.on("error", reject);
        // A stream reset before its end has no "end": settle it here (a settled promise ignores this).
        stream.on("close", () => reject(new Error(`stream closed with code ${stream.rstCode}`)));
        stream.end(call.body);
      });
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
