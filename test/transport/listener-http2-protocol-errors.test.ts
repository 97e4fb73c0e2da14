// nghttp2 answers some protocol errors with GOAWAY and then stops reading and writing, leaving the close to the
// server (RFC 9113 §5.4.1), which Node never does: a client that broke the protocol and stayed connected held its
// connection slot until the idle timeout and the stall bound after it (90 s with the defaults).
import net from "node:net";
import tls from "node:tls";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import type { NodeHandler } from "../../src/transport/call-context.js";
import { createTestCertificate } from "../helpers/tls-cert.js";
import { type Running, echo, fastLimits, h2Connect, h2Request, http2Preface, start, until } from "./listener-harness.js";

// Every timeout far beyond the bound the tests hold the server to.
const slowLimits = { ...fastLimits, idleTimeoutMs: 30_000, requestTimeoutMs: 30_000, firstBytesTimeoutMs: 30_000 };
const closedWithinMs = 3_000;

function frame(type: number, streamId: number, payload: Buffer): Buffer {
  const header = Buffer.alloc(9);
  header.writeUIntBE(payload.length, 0, 3);
  header[3] = type;
  header[4] = type === 0x1 ? 0x5 : 0; // HEADERS: END_HEADERS and END_STREAM
  header.writeUInt32BE(streamId, 5);
  return Buffer.concat([header, payload]);
}

const violations = {
  // FRAME_SIZE_ERROR: a PING is 8 bytes.
  "a PING of 7 bytes": frame(0x6, 0, Buffer.alloc(7)),
  // FRAME_SIZE_ERROR: beyond the 16 KiB SETTINGS_MAX_FRAME_SIZE.
  "a frame longer than SETTINGS_MAX_FRAME_SIZE": frame(0x6, 0, Buffer.alloc(20_000)),
  // COMPRESSION_ERROR: an HPACK index that never ends.
  "a header block HPACK cannot decode": frame(0x1, 1, Buffer.from("ffffffffffff", "hex")),
  // PROTOCOL_ERROR: DATA belongs to a stream.
  "DATA on stream 0": frame(0x0, 0, Buffer.from("abc")),
};

let running: Running | undefined;
afterEach(async () => {
  await running?.listener.close(100);
  running = undefined;
});

describe.each(["cleartext", "TLS"] as const)("an HTTP/2 client that breaks the protocol over %s and stays", (transport) => {
  let certificate: { cert: string; key: string } | undefined;
  beforeAll(async () => {
    if (transport === "TLS") certificate = await createTestCertificate();
  });

  /** A connection that has begun HTTP/2 and from now on reads nothing: it never learns of the GOAWAY, nor hangs up. */
  async function connectAndStopReading(port: number): Promise<net.Socket> {
    const socket = certificate
      ? tls.connect({ host: "127.0.0.1", port, ALPNProtocols: ["h2"], rejectUnauthorized: false })
      : net.connect({ host: "127.0.0.1", port });
    socket.on("error", () => {});
    await new Promise((resolve) => socket.once(certificate ? "secureConnect" : "connect", resolve));
    socket.pause();
    socket.write(http2Preface);
    return socket;
  }

  it.each(Object.entries(violations))("loses its connection within seconds of sending %s", async (_name, violation) => {
    running = await start(slowLimits, certificate ? { tls: certificate } : {});
    const { openConnections } = running;
    const socket = await connectAndStopReading(running.port);
    try {
      await until(async () => (await openConnections()) === 1);
      socket.write(violation);
      await until(async () => (await openConnections()) === 0, closedWithinMs);
    } finally {
      socket.destroy();
    }
  });
});

describe("a graceful GOAWAY (shutdown)", () => {
  it("still lets a call in flight finish, however long past the check", async () => {
    const slow: NodeHandler = (req, res) => void setTimeout(() => echo(req, res), 1_500);
    running = await start(slowLimits, { handler: slow });
    const session = await h2Connect(`http://127.0.0.1:${running.port}`);
    try {
      const answer = h2Request(session);
      await new Promise((resolve) => setTimeout(resolve, 100));
      const closing = running.listener.close(10_000);
      expect((await answer).status).toBe(200);
      expect(await closing).toEqual({ destroyedConnections: 0 });
    } finally {
      session.destroy();
    }
  });
});
