import net from "node:net";
import tls from "node:tls";
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { createTestCertificate } from "../helpers/tls-cert.js";
import {
  type Running,
  fastLimits,
  h2Connect,
  h2Request,
  http2Preface,
  rawConnection,
  request,
  start,
  until,
} from "./listener-harness.js";

const slowToReap = { ...fastLimits, firstBytesTimeoutMs: 10_000, idleTimeoutMs: 60_000 };

describe("HTTP/2 clients that close their side", () => {
  it("free their connection slot at once, long before the idle timeout", async () => {
    const running = await start({ ...slowToReap, maxConnections: 5 });
    try {
      for (let i = 0; i < 20; i++) {
        const { socket, closed } = rawConnection(running.port);
        socket.write(http2Preface);
        // The server's SETTINGS, or its refusal: either way it has taken the connection in.
        await Promise.race([new Promise((resolve) => socket.once("data", resolve)), closed]);
        socket.end();
      }

      await until(async () => (await running.openConnections()) === 0);
      const session = await h2Connect(`http://127.0.0.1:${running.port}`);
      try {
        expect((await h2Request(session)).status).toBe(200);
      } finally {
        session.close();
      }
    } finally {
      await running.listener.close(100);
    }
  });
});

describe("maxConnectionsPerClient", () => {
  const perClient = { ...slowToReap, maxConnections: 100, maxConnectionsPerClient: 3 };

  describe("cleartext", () => {
    let running: Running;
    beforeAll(async () => {
      running = await start(perClient);
    });
    afterAll(() => running.listener.close(100));

    it("closes a client's connections beyond its share at once, while another address still gets in", async () => {
      const held = Array.from({ length: 3 }, () => rawConnection(running.port));
      await until(async () => (await running.openConnections()) === 3);

      const extra = rawConnection(running.port);
      expect(await extra.closed).toBe("");

      const otherClient = await request(running.port, { localAddress: "127.0.0.2" });
      expect(otherClient.status).toBe(200);

      held[0]!.socket.destroy();
      await until(async () => (await running.openConnections()) === 2);
      expect((await request(running.port)).status).toBe(200);
      held.forEach(({ socket }) => socket.destroy());
    });
  });

  it("bounds a trusted proxy's connections by maxConnections alone, and other addresses by their share", async () => {
    const running = await start(perClient, { trustedProxies: ["127.0.0.1"] });
    try {
      const fromProxy = Array.from({ length: 6 }, () => rawConnection(running.port));
      await until(async () => (await running.openConnections()) === 6);
      const fromClient = Array.from({ length: 3 }, () => rawConnection(running.port, { localAddress: "127.0.0.2" }));
      await until(async () => (await running.openConnections()) === 9);
      expect(await rawConnection(running.port, { localAddress: "127.0.0.2" }).closed).toBe("");
      [...fromProxy, ...fromClient].forEach(({ socket }) => socket.destroy());
    } finally {
      await running.listener.close(100);
    }
  });

  describe("TLS", () => {
    let running: Running;
    let ca: string;
    beforeAll(async () => {
      const certificate = await createTestCertificate();
      ca = certificate.cert;
      running = await start(perClient, { tls: certificate });
    });
    afterAll(() => running.listener.close(100));

    function tlsFrom(localAddress: string): tls.TLSSocket {
      const tcp = net.connect({ host: "127.0.0.1", port: running.port, localAddress });
      return tls.connect({ socket: tcp, ca, servername: "localhost", ALPNProtocols: ["h2"] });
    }

    function handshake(localAddress: string): Promise<tls.TLSSocket> {
      return new Promise((resolve, reject) => {
        const socket = tlsFrom(localAddress);
        socket.once("secureConnect", () => resolve(socket));
        socket.once("error", reject);
        socket.once("close", () => reject(new Error("closed before the handshake")));
      });
    }

    it("counts TLS connections per client address too", async () => {
      const held = await Promise.all(Array.from({ length: 3 }, () => handshake("127.0.0.1")));
      await expect(handshake("127.0.0.1")).rejects.toThrow();

      const session = await h2Connect(`https://127.0.0.1:${running.port}`, { createConnection: () => tlsFrom("127.0.0.2") });
      try {
        expect((await h2Request(session)).status).toBe(200);
      } finally {
        session.close();
        held.forEach((socket) => socket.destroy());
      }
    });
  });
});
