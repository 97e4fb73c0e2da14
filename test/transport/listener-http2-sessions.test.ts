import http2 from "node:http2";
import type { ServerResponse } from "node:http";
import { describe, it, expect, beforeAll, afterEach } from "vitest";
import type { NodeHandler } from "../../src/transport/call-context.js";
import { createTestCertificate } from "../helpers/tls-cert.js";
import { type Running, echo, fastLimits, h2Connect, http2Preface, rawConnection, start, until } from "./listener-harness.js";

// Short timeouts so that the tests wait for them with a wide margin; the checks poll well past both.
const shortTimeouts = { ...fastLimits, requestTimeoutMs: 400, idleTimeoutMs: 400 };

const ping = Buffer.from("000008060000000000" + "00".repeat(8), "hex");

/** Keeps a client busy with PINGs and SETTINGS, frames that are traffic but no progress. */
function keepChattering(session: http2.ClientHttp2Session): void {
  const timer = setInterval(() => {
    if (session.closed || session.destroyed) return;
    session.ping(() => {});
    session.settings({});
  }, 100);
  session.once("close", () => clearInterval(timer));
}

/** Answers /watch with one chunk and then waits for the test, like a Watch call with nothing new to say. */
function watchHandler(watchers: ServerResponse[]): NodeHandler {
  return (req, res) => {
    if (req.url !== "/watch") return echo(req, res);
    res.writeHead(200, { "content-type": "text/plain" });
    res.write("first;");
    watchers.push(res as ServerResponse);
  };
}

let running: Running | undefined;
afterEach(async () => {
  await running?.listener.close(100);
  running = undefined;
});

describe.each(["cleartext", "TLS"] as const)("HTTP/2 sessions over %s", (transport) => {
  let certificate: { cert: string; key: string } | undefined;
  beforeAll(async () => {
    if (transport === "TLS") certificate = await createTestCertificate();
  });

  async function serve(handler?: NodeHandler): Promise<Running> {
    running = await start(shortTimeouts, { ...(certificate ? { tls: certificate } : {}), ...(handler ? { handler } : {}) });
    return running;
  }

  async function connect(options: http2.ClientSessionOptions = {}): Promise<http2.ClientHttp2Session> {
    const scheme = certificate ? "https" : "http";
    const session = await h2Connect(`${scheme}://127.0.0.1:${running!.port}`, { ...options, ca: certificate?.cert });
    session.on("error", () => {});
    return session;
  }

  it("closes a session without streams after the idle timeout, however much its client chatters", async () => {
    const { openConnections } = await serve();
    const session = await connect();
    keepChattering(session);

    await until(() => session.destroyed);
    await until(async () => (await openConnections()) === 0);
  });

  it("disconnects a session whose answer cannot leave because the client keeps its window shut", async () => {
    const { openConnections } = await serve();
    const session = await connect({ settings: { initialWindowSize: 0 } });
    keepChattering(session);
    session.request({ ":path": "/echo" }).on("error", () => {});

    await until(() => session.destroyed);
    await until(async () => (await openConnections()) === 0);
  });

  it("keeps a quiet long-lived stream open past every timeout, and it still delivers", async () => {
    const watchers: ServerResponse[] = [];
    await serve(watchHandler(watchers));
    const session = await connect();
    keepChattering(session);
    const stream = session.request({ ":path": "/watch" });
    let received = "";
    stream.setEncoding("utf8");
    stream.on("data", (chunk: string) => (received += chunk));
    await until(() => received === "first;");

    // Several request and idle timeouts, and many of the listener's checks.
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    expect(session.closed || session.destroyed).toBe(false);
    expect(stream.closed).toBe(false);

    watchers[0]!.end("second");
    await new Promise((resolve) => stream.once("end", resolve));
    expect(received).toBe("first;second");
    session.close();
  });
});

describe("HTTP/2 clients that ignore GOAWAY", () => {
  it("are disconnected when they keep their connection open and pinging", async () => {
    running = await start(shortTimeouts);
    const { openConnections } = running;
    const { socket } = rawConnection(running.port, { allowHalfOpen: true });
    socket.write(http2Preface);
    const pings = setInterval(() => socket.writable && socket.write(ping), 100);
    try {
      await until(async () => (await openConnections()) === 1);
      await until(async () => (await openConnections()) === 0);
    } finally {
      clearInterval(pings);
      socket.destroy();
    }
  });
});
