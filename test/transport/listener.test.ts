import http from "node:http";
import http2 from "node:http2";
import https from "node:https";
import type net from "node:net";
import tls from "node:tls";
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { createTestCertificate } from "../helpers/tls-cert.js";
import {
  type Echo,
  type Running,
  fastLimits,
  h2Connect,
  h2Request,
  parse,
  rawConnection,
  request,
  start,
  until,
} from "./listener-harness.js";

function dribble(socket: net.Socket, bytes: string): void {
  let next = 0;
  const timer = setInterval(() => {
    if (socket.destroyed || next >= bytes.length) return clearInterval(timer);
    socket.write(bytes[next++]!);
  }, 40);
  socket.once("close", () => clearInterval(timer));
}

describe("cleartext listener", () => {
  let running: Running;
  beforeAll(async () => {
    running = await start(fastLimits);
  });
  afterAll(() => running.listener.close(100));

  it("answers HTTP/1.1 and h2c prior-knowledge requests on the same port", async () => {
    const viaHttp1 = await request(running.port, { method: "POST", body: "hello" });
    expect(viaHttp1.status).toBe(200);
    expect(parse(viaHttp1.body)).toEqual({ method: "POST", path: "/echo", httpVersion: "1.1", bodyBytes: 5 });

    const viaFetch = await fetch(`http://127.0.0.1:${running.port}/echo?q=1`);
    expect(parse(await viaFetch.text())).toMatchObject({ method: "GET", path: "/echo?q=1", httpVersion: "1.1" });

    const session = await h2Connect(`http://127.0.0.1:${running.port}`);
    try {
      const viaHttp2 = await h2Request(session);
      expect(viaHttp2.status).toBe(200);
      expect(parse(viaHttp2.body)).toMatchObject({ method: "GET", path: "/echo", httpVersion: "2.0" });
    } finally {
      session.close();
    }
  });

  it("answers garbage with 400, and keeps serving", async () => {
    const { socket, closed } = rawConnection(running.port);
    socket.write(Buffer.from("\x00\xffnot http at all\r\n\r\n", "latin1"));
    const received = await closed;
    expect(received).toMatch(/^HTTP\/1\.1 400/);
    expect(running.clientErrors.some((error) => (error as NodeJS.ErrnoException).code?.startsWith("HPE_"))).toBe(true);

    expect((await request(running.port)).status).toBe(200);
  });

  it("closes a connection that sends nothing", async () => {
    const { closed } = rawConnection(running.port);
    expect(await closed).toBe("");
  });

  it("closes slowloris connections while serving other clients", async () => {
    const slow = Array.from({ length: 20 }, () => rawConnection(running.port));
    for (const { socket } of slow) dribble(socket, "GET /echo HTTP/1.1\r\nHost: x\r\nX-Slow: " + "a".repeat(200));

    const [served, ...answers] = await Promise.all([request(running.port), ...slow.map(({ closed }) => closed)]);
    expect(served.status).toBe(200);
    for (const answer of answers) expect(answer).toMatch(/^HTTP\/1\.1 408/);
  });

  it("answers 408 to an HTTP/1.1 body that is too slow", async () => {
    const { socket, closed } = rawConnection(running.port);
    socket.write("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n");
    dribble(socket, "b".repeat(100));
    expect(await closed).toMatch(/^HTTP\/1\.1 408/);
  });

  it("resets an h2 stream whose body never ends, and keeps the session", async () => {
    const session = await h2Connect(`http://127.0.0.1:${running.port}`);
    try {
      const stream = session.request({ ":method": "POST", ":path": "/echo" }, { endStream: false });
      let responded = false;
      stream.on("response", () => (responded = true));
      stream.write("some of the body");
      // Node's client raises no 'error' for a CANCEL reset: the stream just closes with that code.
      await new Promise((resolve) => stream.once("close", resolve));
      expect(stream.rstCode).toBe(http2.constants.NGHTTP2_CANCEL);
      expect(responded).toBe(false);

      expect((await h2Request(session)).status).toBe(200);
    } finally {
      session.close();
    }
  });

  it("advertises maxConcurrentStreams in its HTTP/2 SETTINGS", async () => {
    const session = http2.connect(`http://127.0.0.1:${running.port}`);
    try {
      const settings = await new Promise<http2.Settings>((resolve) => session.once("remoteSettings", resolve));
      expect(settings.maxConcurrentStreams).toBe(7);
      expect(session.remoteSettings.maxHeaderListSize).toBe(4_096);
    } finally {
      session.close();
    }
  });

  it("answers 431 to oversized HTTP/1.1 headers, and keeps serving", async () => {
    const oversized = await request(running.port, { headers: { "x-big": "a".repeat(8_000) } });
    expect(oversized.status).toBe(431);
    expect((await request(running.port)).status).toBe(200);
  });
});

describe("maxConnections", () => {
  let running: Running;
  beforeAll(async () => {
    running = await start({ ...fastLimits, firstBytesTimeoutMs: 10_000, maxConnections: 3 });
  });
  afterAll(() => running.listener.close(100));

  it("closes connections beyond the limit at once, and accepts again once others close", async () => {
    const held = Array.from({ length: 3 }, () => rawConnection(running.port));
    await until(async () => (await running.openConnections()) === 3);

    const extra = rawConnection(running.port);
    expect(await extra.closed).toBe("");

    held.forEach(({ socket }) => socket.destroy());
    await until(async () => (await running.openConnections()) === 0);
    expect((await request(running.port)).status).toBe(200);
  });
});

describe("TLS listener", () => {
  let running: Running;
  let cert: string;
  beforeAll(async () => {
    const certificate = await createTestCertificate();
    cert = certificate.cert;
    running = await start(fastLimits, { tls: certificate });
  });
  afterAll(() => running.listener.close(100));

  it("answers HTTP/1.1 and h2 on the same port, choosing by ALPN", async () => {
    const viaHttp1 = await new Promise<Echo>((resolve, reject) => {
      const req = https.request({ host: "127.0.0.1", port: running.port, path: "/echo", ca: cert, agent: false }, (res) => {
        let body = "";
        res.on("data", (chunk: Buffer) => (body += chunk.toString()));
        res.on("end", () => resolve(parse(body)));
      });
      req.on("error", reject);
      req.end();
    });
    expect(viaHttp1.httpVersion).toBe("1.1");

    const session = await h2Connect(`https://127.0.0.1:${running.port}`, { ca: cert });
    try {
      expect(session.alpnProtocol).toBe("h2");
      expect(parse((await h2Request(session)).body).httpVersion).toBe("2.0");
    } finally {
      session.close();
    }
  });

  it("applies the HTTP/1.1 limits to TLS connections too", async () => {
    const oversized = await new Promise<number>((resolve, reject) => {
      const req = https.request(
        { host: "127.0.0.1", port: running.port, path: "/echo", ca: cert, agent: false, headers: { "x-big": "a".repeat(8_000) } },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on("error", reject);
      req.end();
    });
    expect(oversized).toBe(431);
  });

  it("answers 408 to slow HTTP/1.1 headers over TLS", async () => {
    const socket = tls.connect({ host: "127.0.0.1", port: running.port, ca: cert, ALPNProtocols: ["http/1.1"] });
    const closed = new Promise<string>((resolve) => {
      let received = "";
      socket.on("data", (chunk: Buffer) => (received += chunk.toString("latin1")));
      socket.on("error", () => {});
      socket.on("close", () => resolve(received));
    });
    await new Promise((resolve) => socket.once("secureConnect", resolve));
    expect(socket.alpnProtocol).toBe("http/1.1");
    socket.write("GET /echo HTTP/1.1\r\nHost: x\r\n");
    expect(await closed).toMatch(/^HTTP\/1\.1 408/);
  });

  it("closes a connection that never starts its handshake", async () => {
    const { closed } = rawConnection(running.port);
    expect(await closed).toBe("");
  });
});

describe("idle connections", () => {
  it("closes an idle HTTP/1.1 keep-alive connection and sends GOAWAY to an idle h2 session", async () => {
    const running = await start({ ...fastLimits, idleTimeoutMs: 200 });
    try {
      const session = await h2Connect(`http://127.0.0.1:${running.port}`);
      const goaway = new Promise((resolve) => session.once("goaway", resolve));
      expect((await h2Request(session)).status).toBe(200);

      const { socket, closed } = rawConnection(running.port);
      socket.write("GET /echo HTTP/1.1\r\nHost: x\r\n\r\n");
      expect(await closed).toMatch(/^HTTP\/1\.1 200/);
      await goaway;
    } finally {
      await running.listener.close(100);
    }
  });
});

describe("close()", () => {
  it("lets an in-flight request finish, then closes idle HTTP/1.1 and h2 connections without waiting for the grace period", async () => {
    const running = await start(fastLimits);
    const session = await h2Connect(`http://127.0.0.1:${running.port}`);
    const sessionClosed = new Promise((resolve) => session.once("close", resolve));
    const agent = new http.Agent({ keepAlive: true });
    expect((await request(running.port, { agent })).status).toBe(200);

    const { socket, closed } = rawConnection(running.port);
    socket.write("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nab");
    await new Promise((resolve) => setTimeout(resolve, 50));

    const closing = running.listener.close(60_000);
    socket.write("cd");
    const response = await closed;
    expect(response).toMatch(/^HTTP\/1\.1 200/);
    expect(response.toLowerCase()).toContain("connection: close");
    await sessionClosed;
    await closing;
    agent.destroy();
  }, 10_000);
});
