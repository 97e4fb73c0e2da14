// Everything the servers under test need before the first row: verifyd built, the peers compiled, the secrets, the
// webhook sink, both databases seeded with the same users; then a start function per target.
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { compilePeers } from "./compile-peers.js";
import { peerSecretVariable } from "./peers/peer-keys.js";
import type { Target } from "./rows.js";
import { seedPeer } from "./seed-peer.js";
import { seedVerifyd } from "./seed-verifyd.js";
import { type ServerProcess, repoRoot, startServerProcess } from "./server-process.js";
import { type VerifydSecrets, benchDir, buildVerifyd, startVerifyd, verifydBuildIsCurrent } from "./verifyd.js";
import { type WebhookSink, startWebhookSink } from "./webhook-sink.js";

export const logDir = join(benchDir, "logs");

export interface Targets {
  /** The administrator's bearer token, valid on every target. */
  token: string;
  sink: WebhookSink;
  /** Starts a fresh process of the target; its output goes to .bench/logs/<logName>.log. */
  start(target: Target, logName: string, nodeFlags?: string[]): Promise<ServerProcess>;
}

/** Prepares verifyd and, unless `withPeers` is false, the peers, each with `users` seeded users. */
export async function prepareTargets(users: number, withPeers = true): Promise<Targets> {
  mkdirSync(logDir, { recursive: true });
  const secrets: VerifydSecrets = {
    keys: `bench:${randomBytes(32).toString("base64")}`,
    webhookSecret: `whsec_${randomBytes(32).toString("base64")}`,
  };
  const peerSecret = randomBytes(32);
  const verifydData = join(benchDir, "verifyd-data");
  const peerDatabase = join(benchDir, "peer-data", "peer.sqlite");
  const peersBuildDir = join(benchDir, "peers");

  if (verifydBuildIsCurrent()) process.stderr.write("verifyd's build is up to date (no source changed since)\n");
  else await step("npm run build (verifyd's production build)", buildVerifyd);
  if (withPeers) {
    await step("compiling the peers", () => compilePeers(peersBuildDir));
    // The grpc-js peer reads the contract's .proto files, which import these.
    if (!existsSync(join(repoRoot, "third_party", "google", "api", "annotations.proto"))) {
      await step("npm run protos:deps", () => execFileSync("npm", ["run", "protos:deps"], { cwd: repoRoot, stdio: "pipe" }));
    }
  }
  const sink = await startWebhookSink();
  const verifydOptions = (logName: string) => ({ dataDir: verifydData, secrets, webhookUrl: sink.url, logFile: join(logDir, `${logName}.log`) });
  const token = await step(`seeding verifyd with ${users.toLocaleString("en")} users`, () => seedVerifyd(verifydOptions("seed-verifyd"), users));
  if (withPeers) {
    mkdirSync(join(benchDir, "peer-data"), { recursive: true });
    await step(`seeding the peers' database with ${users.toLocaleString("en")} users`, () => seedPeer(peerDatabase, users, peerSecret, token));
  }
  const peerScript: Record<Exclude<Target, "verifyd">, string> = { "grpc-js peer": "grpc-js-peer.js", "Fastify peer": "fastify-peer.js" };
  return {
    token,
    sink,
    start(target, logName, nodeFlags) {
      if (target === "verifyd") return startVerifyd({ ...verifydOptions(logName), ...(nodeFlags ? { nodeFlags } : {}) });
      return startServerProcess({
        args: [join(peersBuildDir, peerScript[target]), "--port", "{port}", "--database", peerDatabase],
        env: { ...process.env, [peerSecretVariable]: peerSecret.toString("base64") },
        logFile: join(logDir, `${logName}.log`),
        ...(nodeFlags ? { nodeFlags } : {}),
      });
    },
  };
}

async function step<T>(what: string, action: () => T | Promise<T>): Promise<T> {
  const started = Date.now();
  process.stderr.write(`${what}...`);
  const result = await action();
  process.stderr.write(` ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  return result;
}
