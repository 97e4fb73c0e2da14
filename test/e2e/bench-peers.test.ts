// The bench's hand-written peers and its load generator (bench/), through real processes: the peers must do
// VerifyPhone's and AddHumanUser's work and answer as the contract says, and the generator's hand-made requests and
// its reading of the answers must agree with them, or the bench's comparison would measure something else. The heap
// meter the bench loads into every server must count what the server's calls allocate.
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { compileScripts } from "../../bench/compile-scripts.js";
import { type LoadGenerator, startLoadGenerator } from "../../bench/load/generator-process.js";
import type { Protocol, Rpc, Workload } from "../../bench/load/load-job.js";
import { peerSecretVariable } from "../../bench/peers/peer-keys.js";
import { seedPeer } from "../../bench/seed-peer.js";
import { type ServerProcess, repoRoot, startServerProcess } from "../../bench/server-process.js";
import { assertThirdPartyProtos } from "../helpers/grpc-js-client.js";

const dir = mkdtempSync(join(tmpdir(), "verifyd-bench-peers-"));
// Inside the repository (git-ignored), where the compiled peers find the packages and package.json's "type".
const build = join(repoRoot, ".bench", `test-peers-${process.pid}`);
const inServerBuild = join(repoRoot, ".bench", `test-in-server-${process.pid}`);
const database = join(dir, "peer.sqlite");
const secret = randomBytes(32);
const token = "bench-test-token";
const users = 40;
const peers: Record<"grpc" | "rest", { script: string; server?: ServerProcess }> = {
  grpc: { script: "grpc-js-peer.js" },
  rest: { script: "fastify-peer.js" },
};

beforeAll(async () => {
  assertThirdPartyProtos();
  compileScripts("peers", build);
  seedPeer(database, users, secret, token);
  for (const peer of Object.values(peers)) {
    peer.server = await startServerProcess({
      args: [join(build, peer.script), "--port", "{port}", "--database", database],
      env: { ...process.env, [peerSecretVariable]: secret.toString("base64") },
      logFile: join(dir, `${peer.script}.log`),
    });
  }
});
afterAll(async () => {
  for (const peer of Object.values(peers)) await peer.server?.stop();
  rmSync(dir, { recursive: true, force: true });
  rmSync(build, { recursive: true, force: true });
  rmSync(inServerBuild, { recursive: true, force: true });
});

/** Runs one closed-loop phase of `limit` calls from user `first` on, against the peer and any `moreUrls` in turn; returns the outcomes. */
async function outcomes(protocol: Protocol, rpc: Rpc, workload: Workload, first: number, limit: number, withToken = token, moreUrls: string[] = []) {
  const server = peers[protocol === "rest" ? "rest" : "grpc"].server as ServerProcess;
  const generator: LoadGenerator = startLoadGenerator({ urls: [server.url, ...moreUrls], protocol, rpc, workload, token: withToken });
  try {
    return (await generator.run({ mode: "closed", seconds: 10, first, limit })).outcomes;
  } finally {
    await generator.close();
  }
}

describe.each([
  ["grpc", 0],
  ["rest", 20],
] as const)("the %s peer under the bench's load generator", (protocol, first) => {
  it("verifies each seeded user's code once, and judges a wrong code as INVALID_ARGUMENT", async () => {
    expect(await outcomes(protocol, "verify-phone", "wrong-code", first, 10)).toEqual({ "code 3": 10 });
    expect(await outcomes(protocol, "verify-phone", "success", first, 10)).toEqual({ ok: 10 });
    // The code is used up: the number is verified.
    expect(await outcomes(protocol, "verify-phone", "success", first, 10)).toEqual({ "code 9": 10 });
  });

  it("adds users with a phone number and send_code", async () => {
    expect(await outcomes(protocol, "add-human-user", "success", first, 10)).toEqual({ ok: 10 });
  });

  it("refuses a call without a valid bearer token", async () => {
    expect(await outcomes(protocol, "verify-phone", "success", first + 10, 5, "not-the-token")).toEqual({ "code 16": 5 });
  });

  it("sends calls to several URLs in turn", async () => {
    // Port 1 refuses connections: every other call fails there, whichever answers first.
    const counted = await outcomes(protocol, "verify-phone", "success", first + 15, 4, token, ["http://127.0.0.1:1"]);
    const failures = Object.entries(counted).filter(([outcome]) => outcome.startsWith("network: "));
    expect({ ok: counted.ok, network: failures.reduce((sum, [, times]) => sum + times, 0) }).toEqual({ ok: 2, network: 2 });
  });
});

describe("the heap meter", () => {
  it("counts the bytes a server's calls allocate, its collections and their pauses", async () => {
    const metered = await startServerProcess({
      args: [join(build, "grpc-js-peer.js"), "--port", "{port}", "--database", database],
      env: { ...process.env, [peerSecretVariable]: secret.toString("base64") },
      logFile: join(dir, "metered-peer.log"),
      heapMeter: join(compileScripts("in-server", inServerBuild), "heap-meter.js"),
      // A young generation of 1 MiB fills within the calls below, so that collections fall between the two counts.
      nodeFlags: ["--max-semi-space-size=1"],
    });
    try {
      const before = await metered.heapTotals();
      const generator = startLoadGenerator({ urls: [metered.url], protocol: "grpc", rpc: "add-human-user", workload: "success", token });
      const calls = 300;
      try {
        expect((await generator.run({ mode: "closed", seconds: 20, first: 1000, limit: calls })).outcomes).toEqual({ ok: calls });
      } finally {
        await generator.close();
      }
      const after = await metered.heapTotals();
      // A call of the peer allocates some 20 KB (the request, the statements' rows, the answer).
      expect((after.allocatedBytes - before.allocatedBytes) / calls).toBeGreaterThan(5 * 1024);
      expect(after.collections - before.collections).toBeGreaterThan(0);
      expect(after.pauseSeconds).toBeGreaterThan(before.pauseSeconds);
      expect(after.promotedBytes).toBeGreaterThanOrEqual(before.promotedBytes);
    } finally {
      await metered.stop();
    }
  });

  it("is not asked of a server started without it", async () => {
    await expect((peers.grpc.server as ServerProcess).heapTotals()).rejects.toThrow(/without the heap meter/);
  });
});
