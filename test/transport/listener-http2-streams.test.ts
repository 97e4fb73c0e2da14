import net from "node:net";
import http2 from "node:http2";
import { describe, it, expect, afterEach } from "vitest";
import { type Running, fastLimits, h2Connect, h2Request, http2Preface, start, until } from "./listener-harness.js";

// Streams stay open for the whole test: their requests never end, and the request timeout is far off.
const limits = {
  ...fastLimits,
  requestTimeoutMs: 60_000,
  maxConcurrentStreams: 7,
  maxConnections: 10,
  maxConnectionsPerClient: 5,
  // A client address's share: 5 of 10 connections, so 10 of these 20 streams.
  maxOpenStreams: 20,
};

/** HEADERS of a gRPC call, without END_STREAM: a request whose body never comes (from a proxy: forwarded for someone). */
function headersWithoutBody(streamId: number, forwardedFor?: string): Buffer {
  const literal = (name: string, value: string) =>
    Buffer.concat([Buffer.from([0x00, name.length]), Buffer.from(name), Buffer.from([value.length]), Buffer.from(value)]);
  const block = Buffer.concat([
    Buffer.from([0x83, 0x86]), // :method POST, :scheme http
    literal(":path", "/zitadel.user.v2.UserService/GetUserByID"),
    literal(":authority", "localhost"),
    literal("content-type", "application/grpc"),
    ...(forwardedFor === undefined ? [] : [literal("x-forwarded-for", forwardedFor)]),
  ]);
  const header = Buffer.alloc(9);
  header.writeUIntBE(block.length, 0, 3);
  header[3] = 0x1; // HEADERS
  header[4] = 0x4; // END_HEADERS
  header.writeUInt32BE(streamId, 5);
  return Buffer.concat([header, block]);
}

/** Opens `streams` streams that never send a body; resolves the error code of each RST_STREAM the server sends. */
function holdStreams(port: number, streams: number, forwardedFor?: string): { socket: net.Socket; resets: number[] } {
  const socket = net.connect({ host: "127.0.0.1", port });
  const resets: number[] = [];
  let received = Buffer.alloc(0);
  socket.on("error", () => {});
  socket.on("data", (chunk: Buffer) => {
    received = Buffer.concat([received, chunk]);
    while (received.length >= 9 && received.length >= 9 + received.readUIntBE(0, 3)) {
      const length = received.readUIntBE(0, 3);
      if (received[3] === 0x3) resets.push(received.readUInt32BE(9));
      received = received.subarray(9 + length);
    }
  });
  socket.write(Buffer.concat([http2Preface, ...Array.from({ length: streams }, (_, i) => headersWithoutBody(2 * i + 1, forwardedFor))]));
  return { socket, resets };
}

let running: Running | undefined;
afterEach(async () => {
  await running?.listener.close(100);
  running = undefined;
});

describe("open HTTP/2 streams", () => {
  it("through a trusted proxy count as the client each was forwarded for", async () => {
    running = await start(limits, { trustedProxies: ["127.0.0.1"] });
    // Ten streams for one client fill its share; three more for it are refused, while another client's get through.
    const held = [holdStreams(running.port, 7, "203.0.113.1"), holdStreams(running.port, 6, "203.0.113.1"), holdStreams(running.port, 7, "203.0.113.2")];
    try {
      await until(() => held[1]!.resets.length === 3);
      expect(held[1]!.resets).toEqual(Array(3).fill(http2.constants.NGHTTP2_REFUSED_STREAM));
      expect([held[0]!.resets, held[2]!.resets]).toEqual([[], []]);
    } finally {
      held.forEach(({ socket }) => socket.destroy());
    }
  });

  it("are refused beyond a client address's share, while another address's calls are answered", async () => {
    running = await start(limits);
    const held = [holdStreams(running.port, 7), holdStreams(running.port, 7)];
    const resets = () => held.flatMap((connection) => connection.resets);
    try {
      await until(() => resets().length === 4);
      expect(resets()).toEqual(Array(4).fill(http2.constants.NGHTTP2_REFUSED_STREAM));

      const session = await h2Connect(`http://127.0.0.1:${running.port}`, {
        createConnection: () => net.connect({ host: "127.0.0.1", port: running!.port, localAddress: "127.0.0.2" }),
      });
      try {
        expect((await h2Request(session)).status).toBe(200);
      } finally {
        session.close();
      }
      expect(resets()).toHaveLength(4);
    } finally {
      held.forEach(({ socket }) => socket.destroy());
    }
  });

  it("count again for an address once its connections have closed", async () => {
    running = await start(limits);
    for (let round = 0; round < 2; round++) {
      const held = [holdStreams(running.port, 7), holdStreams(running.port, 7)];
      const resets = () => held.flatMap((connection) => connection.resets);
      await until(() => resets().length >= 4);
      expect(resets()).toHaveLength(4);
      held.forEach(({ socket }) => socket.destroy());
      await until(async () => (await running!.openConnections()) === 0);
    }
  });
});
