// A listener on an ephemeral loopback port with an echo handler, and the clients the listener tests talk to it with.
import { createClientAddresses } from "../../src/transport/client-address.js";
import http from "node:http";
import http2 from "node:http2";
import net from "node:net";
import type { AddressInfo } from "node:net";
import type { NodeHandler } from "../../src/transport/call-context.js";
import { createListener, type Listener, type ListenerLimits } from "../../src/transport/listener.js";
import { loadConfig } from "../../src/config.js";

export const fastLimits: ListenerLimits = {
  ...loadConfig([], {}).limits,
  firstBytesTimeoutMs: 300,
  headersTimeoutMs: 300,
  requestTimeoutMs: 500,
  idleTimeoutMs: 2_000,
  maxConcurrentStreams: 7,
  maxHeaderBytes: 4_096,
};

/** The first bytes of every HTTP/2 connection: the client preface and an empty SETTINGS frame. */
export const http2Preface = Buffer.concat([
  Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "latin1"),
  Buffer.from("000000040000000000", "hex"),
]);

export interface Echo {
  method: string;
  path: string;
  httpVersion: string;
  bodyBytes: number;
}

export const echo: NodeHandler = async (req, res) => {
  let bodyBytes = 0;
  try {
    for await (const chunk of req) bodyBytes += (chunk as Buffer).length;
  } catch {
    return; // the listener gave up on this request (timeout, reset); nothing to answer
  }
  const reply: Echo = { method: req.method ?? "", path: req.url ?? "", httpVersion: req.httpVersion, bodyBytes };
  res.setHeader("content-type", "application/json");
  res.end(JSON.stringify(reply));
};

export interface Running {
  listener: Listener;
  port: number;
  clientErrors: Error[];
  /** Sockets the listener holds open right now, whatever state they are in. */
  openConnections(): Promise<number>;
}

export async function start(
  limits: ListenerLimits,
  options: { tls?: { cert: string; key: string }; handler?: NodeHandler; trustedProxies?: string[] } = {},
): Promise<Running> {
  const clientErrors: Error[] = [];
  const listener = createListener({
    handler: options.handler ?? echo,
    limits,
    clients: createClientAddresses(options.trustedProxies ?? []),
    tls: options.tls,
    onClientError: (error) => {
      clientErrors.push(error);
      throw new Error("a logger that throws must not crash the server");
    },
  });
  await new Promise<void>((resolve) => listener.server.listen(0, "127.0.0.1", resolve));
  return {
    listener,
    port: (listener.server.address() as AddressInfo).port,
    clientErrors,
    openConnections: () =>
      new Promise((resolve, reject) => listener.server.getConnections((error, count) => (error ? reject(error) : resolve(count)))),
  };
}

/** Polls until condition holds; fails after `withinMs`, long before the test's own timeout. */
export async function until(condition: () => Promise<boolean> | boolean, withinMs = 5_000): Promise<void> {
  const deadline = Date.now() + withinMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`condition still false after ${withinMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

export function request(
  port: number,
  options: http.RequestOptions & { body?: string } = {},
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: "127.0.0.1", port, path: "/echo", agent: false, ...options }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (body += chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", reject);
    req.end(options.body);
  });
}

export function h2Request(
  session: http2.ClientHttp2Session,
  headers: http2.OutgoingHttpHeaders = {},
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const stream = session.request({ ":path": "/echo", ...headers });
    let status = 0;
    let body = "";
    stream.setEncoding("utf8");
    stream.on("response", (responseHeaders) => (status = Number(responseHeaders[":status"])));
    stream.on("data", (chunk: string) => (body += chunk));
    stream.on("end", () => resolve({ status, body }));
    stream.on("error", reject);
  });
}

export function h2Connect(authority: string, options: http2.SecureClientSessionOptions = {}): Promise<http2.ClientHttp2Session> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(authority, options, () => resolve(session));
    session.on("error", reject);
  });
}

/** Everything the server sends on a raw connection until it closes it. */
export function rawConnection(
  port: number,
  options: Omit<net.TcpNetConnectOpts, "port"> = {},
): { socket: net.Socket; closed: Promise<string> } {
  const socket = net.connect({ host: "127.0.0.1", port, ...options });
  const closed = new Promise<string>((resolve) => {
    let received = "";
    socket.setEncoding("latin1");
    socket.on("data", (chunk: string) => (received += chunk));
    socket.on("error", () => {}); // a reset is one of the ways the server may hang up
    socket.on("close", () => resolve(received));
  });
  return { socket, closed };
}

export function parse(body: string): Echo {
  return JSON.parse(body) as Echo;
}
