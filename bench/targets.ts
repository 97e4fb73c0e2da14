// Everything the servers under test need before the first row: verifyd built, the peers compiled, the secrets, the
// webhook sink, the databases seeded with the same users (verifyd's SQLite file always, whose administrator token the
// peers accept too; the peers' and verifyd's PostgreSQL database when a chosen row runs on them); then a start
// function per target.
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { compileScripts } from "./compile-scripts.js";
import type { HeapTotals } from "./in-server/heap-meter.js";
import { peerSecretVariable } from "./peers/peer-keys.js";
import { type BackendCpu, backendCpuSecondsBetween, openBackendCpuMeter } from "./postgres.js";
import { type Target, databaseOf, processesOf } from "./rows.js";
import { seedPeer } from "./seed-peer.js";
import { seedVerifyd } from "./seed-verifyd.js";
import { type ServerProcess, repoRoot, startServerProcess } from "./server-process.js";
import { type VerifydOptions, type VerifydSecrets, benchDir, buildVerifyd, startVerifyd, verifydBuildIsCurrent } from "./verifyd.js";
import { type WebhookSink, startWebhookSink } from "./webhook-sink.js";

export const logDir = join(benchDir, "logs");

/** One target's server processes: one, or two on one database that the load generator calls in turn. */
export interface Servers {
  urls: string[];
  /** The administrator's bearer token, valid on these servers. */
  token: string;
  /** The highest VmHWM among the processes: what one process needs. */
  peakRssMiB(): number;
  /**
   * Starts counting; the returned function tells what the servers did since: their CPU time, what their garbage
   * collectors saw, and on PostgreSQL the CPU time of the backends serving the bench's database, whose work is as
   * much part of each call.
   */
  startCounting(): Promise<() => Promise<Counted>>;
  /** A graceful stop of every process (SIGTERM, which also writes a --cpu-prof profile). */
  stop(): Promise<void>;
}

export interface Counted {
  serverSeconds: number;
  heap: HeapTotals;
  databaseSeconds?: number;
}

export interface Targets {
  sink: WebhookSink;
  /**
   * Starts fresh processes of the target; their output goes to .bench/logs/<logName>[-<n>].log. `variant` starts
   * verifyd with Node flags, or from another build (compare.ts).
   */
  start(target: Target, logName: string, variant?: StartVariant): Promise<Servers>;
  close(): Promise<void>;
}

export interface StartVariant {
  nodeFlags?: string[];
  buildDir?: string;
  /** A copy of the seeded SQLite directory (`sqliteDataDir`) to run on instead of it. */
  dataDir?: string;
}

/** Where verifyd's SQLite file is seeded, with the administrator's token file. */
export const sqliteDataDir = join(benchDir, "verifyd-data");

export interface TargetNeeds {
  /** Users seeded into verifyd's SQLite file and the peers' database. */
  users: number;
  /** Compile and seed the peers. */
  peers: boolean;
  /** Seed a PostgreSQL database for verifyd (replacing it) with this many users. */
  postgres?: { url: string; users: number };
}

/** Prepares verifyd and what `needs` asks for. */
export async function prepareTargets(needs: TargetNeeds): Promise<Targets> {
  const { users, postgres } = needs;
  mkdirSync(logDir, { recursive: true });
  const secrets: VerifydSecrets = {
    keys: `bench:${randomBytes(32).toString("base64")}`,
    webhookSecret: `whsec_${randomBytes(32).toString("base64")}`,
  };
  const peerSecret = randomBytes(32);
  const peerDatabase = join(benchDir, "peer-data", "peer.sqlite");
  const peersBuildDir = join(benchDir, "peers");
  const heapMeter = join(compileScripts("in-server", join(benchDir, "in-server")), "heap-meter.js");

  if (verifydBuildIsCurrent()) process.stderr.write("verifyd's build is up to date (no source changed since)\n");
  else await step("npm run build (verifyd's production build)", buildVerifyd);
  if (needs.peers) {
    await step("compiling the peers", () => compileScripts("peers", peersBuildDir));
    // The grpc-js peer reads the contract's .proto files, which import these.
    if (!existsSync(join(repoRoot, "third_party", "google", "api", "annotations.proto"))) {
      await step("npm run protos:deps", () => execFileSync("npm", ["run", "protos:deps"], { cwd: repoRoot, stdio: "pipe" }));
    }
  }
  const sink = await startWebhookSink();
  const verifydOptions = (database: "sqlite" | "postgres", logName: string): VerifydOptions => ({
    dataDir: database === "sqlite" ? sqliteDataDir : join(benchDir, "verifyd-postgres-data"),
    ...(database === "postgres" && postgres ? { postgresUrl: postgres.url } : {}),
    secrets,
    webhookUrl: sink.url,
    logFile: join(logDir, `${logName}.log`),
  });
  const token = await step(`seeding verifyd's SQLite with ${users.toLocaleString("en")} users`, () =>
    seedVerifyd(verifydOptions("sqlite", "seed-verifyd"), users),
  );
  if (needs.peers) {
    mkdirSync(join(benchDir, "peer-data"), { recursive: true });
    await step(`seeding the peers' database with ${users.toLocaleString("en")} users`, () => seedPeer(peerDatabase, users, peerSecret, token));
  }
  const postgresToken =
    postgres &&
    (await step(`seeding verifyd's PostgreSQL with ${postgres.users.toLocaleString("en")} users`, () =>
      seedVerifyd(verifydOptions("postgres", "seed-verifyd-postgres"), postgres.users),
    ));
  const backendCpu = postgres && (await openBackendCpuMeter(postgres.url));

  const peerScript: Record<"grpc-js peer" | "Fastify peer", string> = { "grpc-js peer": "grpc-js-peer.js", "Fastify peer": "fastify-peer.js" };
  const startOne = (target: Target, logName: string, variant: StartVariant): Promise<ServerProcess> => {
    const flags = variant.nodeFlags ? { nodeFlags: variant.nodeFlags } : {};
    if (target === "verifyd" || target === "verifyd ×2") return startVerifyd({ ...verifydOptions("sqlite", logName), ...variant, heapMeter });
    if (target === "verifyd PostgreSQL" || target === "verifyd PostgreSQL ×2") return startVerifyd({ ...verifydOptions("postgres", logName), ...variant, heapMeter });
    return startServerProcess({
      args: [join(peersBuildDir, peerScript[target]), "--port", "{port}", "--database", peerDatabase],
      env: { ...process.env, [peerSecretVariable]: peerSecret.toString("base64") },
      logFile: join(logDir, `${logName}.log`),
      heapMeter,
      ...flags,
    });
  };
  return {
    sink,
    async start(target, logName, variant = {}) {
      const onPostgres = databaseOf[target] === "verifyd's PostgreSQL";
      if (onPostgres && !(backendCpu && postgresToken)) throw new Error(`${target}: no PostgreSQL database was prepared`);
      const count = processesOf[target];
      const processes: ServerProcess[] = [];
      try {
        for (let index = 1; index <= count; index++) processes.push(await startOne(target, count === 1 ? logName : `${logName}-${index}`, variant));
      } catch (error) {
        for (const started of processes) await started.stop();
        throw error;
      }
      const serverCpuSeconds = () => processes.reduce((sum, server) => sum + server.cpuSeconds(), 0);
      const heapTotals = async () =>
        (await Promise.all(processes.map((server) => server.heapTotals()))).reduce((sum, one) => addHeapTotals(sum, one), noHeapTotals);
      const sampleBackends = async (): Promise<BackendCpu | undefined> => (onPostgres ? backendCpu?.sample() : undefined);
      return {
        urls: processes.map((server) => server.url),
        token: onPostgres ? (postgresToken as string) : token,
        peakRssMiB: () => Math.max(...processes.map((server) => server.peakRssMiB())),
        async startCounting() {
          const [serverBefore, heapBefore, backendsBefore] = [serverCpuSeconds(), await heapTotals(), await sampleBackends()];
          return async () => {
            const [serverAfter, heapAfter, backendsAfter] = [serverCpuSeconds(), await heapTotals(), await sampleBackends()];
            return {
              serverSeconds: serverAfter - serverBefore,
              heap: addHeapTotals(heapAfter, heapBefore, -1),
              ...(backendsBefore && backendsAfter ? { databaseSeconds: backendCpuSecondsBetween(backendsBefore, backendsAfter) } : {}),
            };
          };
        },
        async stop() {
          await Promise.all(processes.map((server) => server.stop()));
        },
      };
    },
    async close() {
      await sink.close();
      await backendCpu?.close();
    },
  };
}

export const noHeapTotals: HeapTotals = { allocatedBytes: 0, promotedBytes: 0, pauseSeconds: 0, collections: 0 };

/** `a` plus `b`, or with `sign` -1, `a` minus `b`. */
export function addHeapTotals(a: HeapTotals, b: HeapTotals, sign: 1 | -1 = 1): HeapTotals {
  return {
    allocatedBytes: a.allocatedBytes + sign * b.allocatedBytes,
    promotedBytes: a.promotedBytes + sign * b.promotedBytes,
    pauseSeconds: a.pauseSeconds + sign * b.pauseSeconds,
    collections: a.collections + sign * b.collections,
  };
}

async function step<T>(what: string, action: () => T | Promise<T>): Promise<T> {
  const started = Date.now();
  process.stderr.write(`${what}...`);
  const result = await action();
  process.stderr.write(` ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  return result;
}
