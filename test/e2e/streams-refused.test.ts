// An HTTP/2 call beyond the limits on open streams is reset with REFUSED_STREAM before any handler sees it. A proxy in
// front may show its client a 502 for it, and until this counter and warning nothing on verifyd's side said why.
import http2 from "node:http2";
import net from "node:net";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { serverProcessDirectories, startServerProcess } from "../helpers/server-process.js";
import { h2Connect } from "../transport/listener-harness.js";
import { counterByLabel } from "../helpers/scraped-counter.js";

// A client address's share: 5 of 10 connections, so 2 of these 4 streams, which is also one connection's worth.
const streamLimits = ["--max-open-streams", "4", "--max-concurrent-streams", "2", "--max-connections", "10", "--max-connections-per-client", "5"];

/** A connection from `localAddress` whose calls send their headers and never their body, so they stay open. */
async function connectFrom(url: string, localAddress: string): Promise<http2.ClientHttp2Session> {
  const { port } = new URL(url);
  const session = await h2Connect(url, { createConnection: () => net.connect({ host: "127.0.0.1", port: Number(port), localAddress }) });
  session.on("error", () => {});
  return session;
}

/** Opens `calls` calls that wait for their bodies; resolves once the server has read their HEADERS. */
async function openCalls(session: http2.ClientHttp2Session, calls: number, token: string): Promise<http2.ClientHttp2Stream[]> {
  const streams = Array.from({ length: calls }, () => {
    const stream = session.request(
      { ":method": "POST", ":path": "/zitadel.user.v2.UserService/GetUserByID", "content-type": "application/grpc", authorization: `Bearer ${token}` },
      { endStream: false },
    );
    stream.on("error", () => {}); // a refused stream errors with its code
    return stream;
  });
  // The server reads frames in order: its PING answer comes after it has taken (or refused) each stream.
  await new Promise((resolve) => session.ping(resolve));
  return streams;
}

/** The RST_STREAM code each stream was reset with, once all of them have closed. */
async function resetCodes(streams: http2.ClientHttp2Stream[]): Promise<number[]> {
  await Promise.all(streams.map((stream) => (stream.closed ? undefined : new Promise((resolve) => stream.once("close", resolve)))));
  return streams.map((stream) => stream.rstCode ?? -1);
}

describe("HTTP/2 streams refused for a limit on open streams", () => {
  const tempDirectory = serverProcessDirectories("verifyd-streams-refused-");

  it("are counted by reason in verifyd_streams_refused_total, and warned of once per limit rather than once per stream", async () => {
    const server = await startServerProcess(join(tempDirectory(), "verifyd.sqlite"), { args: [...streamLimits, "--metrics-port", "0"] });
    const listening = JSON.parse(server.stderr.find((line) => line.includes("verifyd listening")) ?? "{}") as { metrics: string };
    const sessions = await Promise.all(["127.0.0.1", "127.0.0.1", "127.0.0.1", "127.0.0.2", "127.0.0.3"].map((from) => connectFrom(server.url, from)));
    const [first, second, third, other, last] = sessions as [http2.ClientHttp2Session, ...http2.ClientHttp2Session[]];
    try {
      await openCalls(first, 2, server.adminToken);
      // Beyond 127.0.0.1's share, on connections of its own that each have room.
      const beyondShare = [...(await openCalls(second!, 2, server.adminToken)), ...(await openCalls(third!, 1, server.adminToken))];
      expect(await resetCodes(beyondShare)).toEqual(Array(3).fill(http2.constants.NGHTTP2_REFUSED_STREAM));

      await openCalls(other!, 2, server.adminToken);
      // Within 127.0.0.3's share, beyond the four in all.
      const beyondAll = await openCalls(last!, 1, server.adminToken);
      expect(await resetCodes(beyondAll)).toEqual([http2.constants.NGHTTP2_REFUSED_STREAM]);

      expect(await counterByLabel(listening.metrics, "verifyd_streams_refused_total", "reason")).toEqual({ per_client: 3, max_open_streams: 1 });
      const warnings = server.stderr.filter((line) => line.includes("streams refused"));
      // The first of each at once; the rest of the minute's are told in one line a minute on.
      expect(warnings.map((line) => JSON.parse(line) as Record<string, unknown>)).toEqual([
        expect.objectContaining({ level: "warn", reason: "per_client", count: 1, setting: expect.stringContaining("--max-open-streams") }),
        expect.objectContaining({ level: "warn", reason: "max_open_streams", count: 1, setting: "--max-open-streams" }),
      ]);
      expect(warnings.join("\n")).not.toContain("127.0.0");
    } finally {
      sessions.forEach((session) => session.destroy());
    }
    await server.stop();
  }, 30_000);
});
