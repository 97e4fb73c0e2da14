// X-Forwarded-For from a peer that --trusted-proxies does not name is not believed, rightly. But that is also what an
// operator behind a proxy sees who forgot --trusted-proxies: every client is the proxy, one share of every per-client
// limit for all of them, and until this warning nothing said so.
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { type ServerProcess, serverProcessDirectories, startServerProcess } from "../helpers/server-process.js";

const warning = "X-Forwarded-For ignored";

/** Sends `count` requests one after the other, then waits for the last one's access log line. */
async function requests(server: ServerProcess, count: number, headers: Record<string, string> = {}): Promise<void> {
  const path = `/nothing-here-${Math.random().toString(36).slice(2)}`;
  for (let i = 0; i < count; i++) await (await fetch(`${server.url}${path}`, { headers })).arrayBuffer();
  const deadline = Date.now() + 10_000;
  while (server.stderr.filter((line) => line.includes(`"http":"GET ${path}"`)).length < count) {
    if (Date.now() > deadline) throw new Error(`the access log lacks some of ${count} requests to ${path}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function warnings(server: ServerProcess): Record<string, unknown>[] {
  return server.stderr.filter((line) => line.includes(warning)).map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe("X-Forwarded-For from a peer that is no trusted proxy", () => {
  const tempDirectory = serverProcessDirectories("verifyd-forwarded-for-");

  it("is warned of once, naming --trusted-proxies and the peer, however many requests carry it", async () => {
    const server = await startServerProcess(join(tempDirectory(), "verifyd.sqlite"));
    await requests(server, 3);
    expect(warnings(server)).toEqual([]);

    await requests(server, 1, { "x-forwarded-for": "203.0.113.7" });
    expect(warnings(server)).toEqual([
      expect.objectContaining({ level: "warn", setting: "--trusted-proxies", peerAddress: expect.stringMatching(/127\.0\.0\.1$/), count: 1 }),
    ]);

    await requests(server, 200, { "x-forwarded-for": "203.0.113.8" });
    expect(warnings(server)).toHaveLength(1);
    await server.stop();
  }, 30_000);

  it("is not warned of from a peer --trusted-proxies names", async () => {
    const server = await startServerProcess(join(tempDirectory(), "verifyd.sqlite"), { args: ["--trusted-proxies", "127.0.0.1"] });
    await requests(server, 20, { "x-forwarded-for": "203.0.113.7" });
    expect(warnings(server)).toEqual([]);
    await server.stop();
  }, 30_000);
});
