// verifyd as the bench runs it: the production start (`npm run build`, then `node --max-semi-space-size=8
// <build>/main.js --production`), every call with a bearer token, SMS and email through signed webhooks to the
// bench's sink, keys from VERIFYD_KEYS (which PostgreSQL requires: every process on the database must hash and seal
// with the same keys).
import { execFileSync } from "node:child_process";
import { readFileSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { settings } from "../src/config.js";
import { type ServerProcess, repoRoot, startServerProcess } from "./server-process.js";

export const benchDir = join(repoRoot, ".bench");

/** Where the bench builds verifyd: its own copy, which no other `npm run build` replaces during a run. */
export const verifydBuildDir = join(benchDir, "build");

export interface VerifydSecrets {
  /** VERIFYD_KEYS: id:base64 */
  keys: string;
  /** VERIFYD_WEBHOOK_SECRET: whsec_base64 */
  webhookSecret: string;
}

export interface VerifydOptions {
  /** Holds the admin-token file the first start writes and, unless `postgresUrl` is given, verifyd.sqlite. */
  dataDir: string;
  /** The PostgreSQL database to run on instead of SQLite. */
  postgresUrl?: string;
  secrets: VerifydSecrets;
  webhookUrl: string;
  logFile: string;
  nodeFlags?: string[];
  args?: string[];
  /** Another build of verifyd to start instead of verifydBuildDir's (compare.ts). */
  buildDir?: string;
  /** See ServerSpec.heapMeter. */
  heapMeter?: string;
}

/** When the last build started, in ms since the epoch: a source changed after it was not in the build. */
const buildStamp = join(benchDir, "build-started");

/** Whether no source has changed since the last build started. */
export function verifydBuildIsCurrent(): boolean {
  const sources = [...filesUnder(join(repoRoot, "src")), ...["package.json", "tsconfig.json", "tsconfig.build.json"].map((name) => join(repoRoot, name))];
  return Math.max(...sources.map((file) => statSync(file).mtimeMs)) < lastBuildStart();
}

/** `npm run build` into verifydBuildDir. */
export function buildVerifyd(): void {
  const started = Date.now();
  try {
    // The same JavaScript as `npm run build` (scripts/build.ts says why), in a third of the time: `--quick` has two
    // minutes.
    execFileSync("npm", ["run", "build", "--", "--out-dir", verifydBuildDir, "--skip-typecheck"], { cwd: repoRoot, stdio: "pipe" });
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: Buffer; stderr?: Buffer };
    throw new Error(`npm run build failed:\n${stdout?.toString() ?? ""}${stderr?.toString() ?? ""}`);
  }
  writeFileSync(buildStamp, `${started}\n`);
}

function lastBuildStart(): number {
  try {
    return Number(readFileSync(buildStamp, "utf8"));
  } catch {
    return 0;
  }
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name));
}

/** The Node flags of the production start, as the README's "Running in production" and its Dockerfile give them. */
export const productionNodeFlags = ["--max-semi-space-size=8"];

export function startVerifyd(options: VerifydOptions): Promise<ServerProcess> {
  return startServerProcess({
    args: [
      join(options.buildDir ?? verifydBuildDir, "main.js"),
      ...["--production", "--port", "{port}", "--database", options.postgresUrl ?? join(options.dataDir, "verifyd.sqlite")],
      // Beside a SQLite file by default, but in ./data with PostgreSQL: named, so that it is the same for both.
      ...["--admin-token-file", join(options.dataDir, "admin-token")],
      // No load balancer to wait for between runs; a database of a million users is not scanned at every start.
      ...["--shutdown-delay", "0s", ...(options.postgresUrl ? [] : ["--skip-integrity-check"])],
      // Each AddHumanUser call sends a code at the one caller's request: the default hourly caps would stop a run.
      ...["--sends-per-caller-hour", "100000000", "--sends-per-organization-hour", "100000000"],
      ...(options.args ?? []),
    ],
    env: {
      ...environmentWithoutSettings(),
      VERIFYD_KEYS: options.secrets.keys,
      VERIFYD_WEBHOOK_SECRET: options.secrets.webhookSecret,
      VERIFYD_SMS_WEBHOOK_URL: options.webhookUrl,
      VERIFYD_EMAIL_WEBHOOK_URL: options.webhookUrl,
    },
    logFile: options.logFile,
    ...(options.heapMeter ? { heapMeter: options.heapMeter } : {}),
    // Flags of a comparison (compare.ts) or the profiler come after, so that they win over the production start's.
    nodeFlags: [...productionNodeFlags, ...(options.nodeFlags ?? [])],
  });
}

/** The bearer token of the IAM_OWNER the first start in `dataDir` created. */
export function adminToken(dataDir: string): string {
  return readFileSync(join(dataDir, "admin-token"), "utf8").trim();
}

/** The bench's own environment minus verifyd's settings (PORT, DATABASE_URL, VERIFYD_*): only what it sets counts. */
function environmentWithoutSettings(): NodeJS.ProcessEnv {
  const names = new Set<string>(Object.values(settings).map((setting) => setting.env));
  return Object.fromEntries(Object.entries(process.env).filter(([name]) => !names.has(name)));
}
