// The load generator's own HTTP/2 client (bench/load/raw-http2.ts) against Node's HTTP/2 server over real sockets:
// what it reads must be what the server sent (headers, a body in several frames, trailers, header blocks continued in
// CONTINUATION frames), it must keep within the server's limits (concurrent streams, flow-control windows), and a
// reset stream or a lost connection must fail the calls they hit, not leave them waiting.
import http2 from "node:http2";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { RawHttp2Connection, encodeHeaderBlock } from "../../bench/load/raw-http2.js";

const servers: http2.Http2Server[] = [];
const connections: RawHttp2Connection[] = [];

afterEach(async () => {
  for (const connection of connections.splice(0)) connection.close();
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
});

async function serve(settings: http2.Settings, onStream: (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders, body: Buffer) => void) {
  const server = http2.createServer({ settings });
  servers.push(server);
  server.on("stream", (stream, headers) => {
    const chunks: Buffer[] = [];
    stream.on("data", (chunk: Buffer) => chunks.push(chunk));
    stream.on("end", () => onStream(stream, headers, Buffer.concat(chunks)));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const connection = new RawHttp2Connection("127.0.0.1", (server.address() as AddressInfo).port);
  connections.push(connection);
  return connection;
}

const block = (path: string, extra: Record<string, string> = {}) =>
  encodeHeaderBlock({ ":method": "POST", ":scheme": "http", ":authority": "127.0.0.1", ":path": path, "content-type": "application/grpc", ...extra });

/** Answers with the request's path and body echoed, in two DATA frames, then trailers. */
function echo(stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders, body: Buffer) {
  stream.respond({ ":status": 200, "x-path": String(headers[":path"]), "x-authorization": String(headers.authorization) }, { waitForTrailers: true });
  stream.on("wantTrailers", () => stream.sendTrailers({ "grpc-status": "0", "x-length": String(body.length) }));
  stream.write(body.subarray(0, 1));
  setImmediate(() => stream.end(body.subarray(1)));
}

describe("the load generator's HTTP/2 client", () => {
  it("sends the headers and body it was given, and reads the answer's headers, body and trailers", async () => {
    const connection = await serve({}, echo);
    const body = Buffer.from("hello, server");
    const answers = await Promise.all(
      ["/a", "/b", "/a"].map((path) => connection.request(block(path, { authorization: "Bearer t" }), body)),
    );
    for (const [index, path] of ["/a", "/b", "/a"].entries()) {
      const answer = answers[index]!;
      expect(answer.headers).toMatchObject({ ":status": "200", "x-path": path, "x-authorization": "Bearer t" });
      expect(answer.trailers).toEqual({ "grpc-status": "0", "x-length": String(body.length) });
      expect(answer.body.toString()).toBe("hello, server");
    }
  });

  it("reads a header block continued in CONTINUATION frames", async () => {
    // Larger than one frame of 16 KiB: Node sends the rest in CONTINUATION frames.
    const large = "v".repeat(20_000);
    const connection = await serve({}, (stream) => {
      stream.respond({ ":status": 200, "x-large": large, "x-after": "yes" }, { endStream: true });
    });
    const answer = await connection.request(block("/large"), Buffer.alloc(0));
    expect(answer.headers["x-large"]).toBe(large);
    expect(answer.headers["x-after"]).toBe("yes");
  });

  it("keeps within the server's limit of concurrent streams, sending the rest as streams end", async () => {
    let open = 0;
    let mostOpen = 0;
    const connection = await serve({ maxConcurrentStreams: 2 }, (stream, headers, body) => {
      mostOpen = Math.max(mostOpen, ++open);
      setTimeout(() => {
        open -= 1;
        echo(stream, headers, body);
      }, 5);
    });
    // The server's SETTINGS arrive with its first frames: a first call waits for them.
    await connection.request(block("/first"), Buffer.from("x"));
    const answers = await Promise.all(Array.from({ length: 12 }, (_, index) => connection.request(block(`/${index}`), Buffer.from("x"))));
    expect(answers.map((answer) => answer.headers["x-path"])).toEqual(Array.from({ length: 12 }, (_, index) => `/${index}`));
    expect(mostOpen).toBe(2);
  });

  it("sends more than the connection's first flow-control window, as the server opens it", async () => {
    const connection = await serve({}, echo);
    const body = Buffer.alloc(10_000, 1);
    // 200 calls of 10 KB: 2 MB through a connection window that starts at 64 KiB.
    const answers = await Promise.all(Array.from({ length: 200 }, () => connection.request(block("/window"), body)));
    expect(answers.every((answer) => answer.body.equals(body))).toBe(true);
  });

  it("fails a call whose stream the server resets, and goes on serving the others", async () => {
    const connection = await serve({}, (stream, headers, body) => {
      if (headers[":path"] === "/reset") stream.close(http2.constants.NGHTTP2_CANCEL);
      else echo(stream, headers, body);
    });
    await expect(connection.request(block("/reset"), Buffer.from("x"))).rejects.toThrow(`stream reset with code ${http2.constants.NGHTTP2_CANCEL}`);
    expect((await connection.request(block("/fine"), Buffer.from("x"))).headers["x-path"]).toBe("/fine");
  });

  it("fails the calls in flight when the connection is lost, and every later call", async () => {
    let sessions: http2.ServerHttp2Session[] = [];
    const connection = await serve({}, () => {
      for (const session of sessions) session.destroy();
    });
    servers[0]!.on("session", (session) => (sessions = [...sessions, session]));
    await expect(connection.request(block("/lost"), Buffer.from("x"))).rejects.toThrow();
    await expect(connection.request(block("/later"), Buffer.from("x"))).rejects.toThrow();
  });

  it("refuses a call larger than one frame, before sending anything", async () => {
    const connection = await serve({}, echo);
    await expect(connection.request(block("/big"), Buffer.alloc(20_000))).rejects.toThrow("a call larger than one frame");
    expect((await connection.request(block("/small"), Buffer.from("x"))).headers["x-path"]).toBe("/small");
  });
});
