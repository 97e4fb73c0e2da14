// `npm run bench -- --profile [--quick] [--rows <row>]`: one row's server under the bench's load (verifyd's gRPC
// VerifyPhone by default; a wrong code, REST, AddHumanUser or a peer with --rows), profiled with Node's own sampling
// profiler on the production build: a warm-up and a saturation phase against the server started with --cpu-prof,
// stopped with SIGTERM so the profile is written, then the functions and areas ranked by self time, and verifyd's own
// functions by total time.
// The profile stays in .bench/profile/.
import { mkdirSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { formatSelfTimes, rankProfile } from "./cpu-profile.js";
import { startLoadGenerator } from "./load/generator-process.js";
import type { BenchOptions } from "./options.js";
import { repoRoot } from "./server-process.js";
import { describeRow, rows } from "./rows.js";
import { prepareTargets } from "./targets.js";
import { benchDir, verifydBuildDir } from "./verifyd.js";

export async function runProfile(options: BenchOptions): Promise<void> {
  const profileDir = join(benchDir, "profile");
  rmSync(profileDir, { recursive: true, force: true });
  mkdirSync(profileDir, { recursive: true });
  // readBenchOptions allows only rows that one server process serves from a SQLite file.
  const row = rows.find((candidate) => candidate.id === (options.rows?.[0] ?? "verifyd-grpc")) as (typeof rows)[number];
  const targets = await prepareTargets({ users: options.users, peers: row.target !== "verifyd" });
  // A finer interval than the default 1 ms: a VerifyPhone call is well under a millisecond of CPU.
  const server = await targets.start(row.target, "profile", { nodeFlags: ["--cpu-prof", "--cpu-prof-dir", profileDir, "--cpu-prof-interval", "250"] });
  const generator = startLoadGenerator({ urls: server.urls, protocol: row.protocol, rpc: row.rpc, workload: row.workload, token: server.token });
  try {
    const warmup = await generator.run({ mode: "closed", seconds: options.warmupSeconds, first: 0, limit: Math.min(options.users, options.warmupCalls) });
    const result = await generator.run({ mode: "closed", seconds: options.saturationSeconds, first: warmup.count, limit: options.users - warmup.count });
    console.log(`${describeRow(row)}: ${result.count} calls, ${(result.count / result.seconds).toFixed(0)} req/s; outcomes ${JSON.stringify(result.outcomes)}`);
  } finally {
    targets.sink.release();
    await server.stop();
    await generator.close();
    await targets.close();
  }
  const [file] = readdirSync(profileDir).filter((name) => name.endsWith(".cpuprofile"));
  if (!file) throw new Error(`no .cpuprofile in ${profileDir}: did the server exit gracefully?`);
  const { total, functions, areas, ourTotals } = rankProfile(join(profileDir, file), repoRoot, verifydBuildDir);
  console.log(`\nTop 30 functions by self time (${join(profileDir, file)}; the server's start-up, warm-up and saturation phase):`);
  console.log(formatSelfTimes(functions, total, 30));
  console.log("\nSelf time by area:");
  console.log(formatSelfTimes(areas, total, 15, false));
  console.log("\nverifyd's functions by total time (with everything they called):");
  console.log(formatSelfTimes(ourTotals, total, 25));
}
