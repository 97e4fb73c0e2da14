// `npm run bench`: VerifyPhone over gRPC, Connect and REST against verifyd, next to the same clients against bare
// Node servers with canned answers (the ceilings). Flags and environment: see options.ts; --profile: see profile.ts.
import { mkdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import { readBenchOptions } from "./options.js";
import { environment, formatTable, summarize } from "./report.js";
import { type RunConfig, type RunResult, type Target, runOnce } from "./run-once.js";
import { seedUsers } from "./seed-users.js";
import type { Protocol } from "./verify-clients.js";
import { benchDir } from "./verifyd.js";

if (process.argv.includes("--profile")) {
  // `npm run bench -- --profile`: the CPU profile of verifyd instead of the table.
  process.argv.splice(process.argv.indexOf("--profile"), 1);
  await import("./profile.js");
  process.exit();
}

const options = readBenchOptions(process.argv.slice(2), process.env);
const env = environment();
console.log(`CPUs: ${env.cpus} × ${env.cpuModel}; Node ${env.node}; ${env.platform}`);
console.log(`load average (1 min) at start: ${env.loadAverage1m.toFixed(2)}`);
console.log(
  `concurrency ${options.concurrency}, ${options.requests} timed requests per run after ${options.warmup} warm-up, ` +
    `median of ${options.repeats} run(s); load generator and servers share this machine's CPUs`,
);

const protocols: Protocol[] = ["grpc", "connect", "rest"];
const ceilingOf: Record<Protocol, Target> = { grpc: "h2 canned", connect: "h1 canned", rest: "h1 canned" };
const configs: RunConfig[] = [
  ...protocols.map((protocol): RunConfig => ({ target: ceilingOf[protocol], protocol, workload: "ceiling" })),
  ...protocols.flatMap((protocol): RunConfig[] => [
    { target: "verifyd", protocol, workload: "success" },
    { target: "verifyd", protocol, workload: "wrong-code" },
  ]),
];

mkdirSync(benchDir, { recursive: true });
const seedDir = join(benchDir, "seed");
const started = Date.now();
// One user per warm-up and timed call; every run works on its own copy of them.
const users = await seedUsers(seedDir, options.warmup + options.requests, options.concurrency);

const results: RunResult[] = [];
// Repeats outermost, so a slow phase of the machine spreads over all configurations instead of hitting one.
for (let repeat = 1; repeat <= options.repeats; repeat++) {
  for (const config of configs) {
    const result = await runOnce(config, { ...options, users, seedDir, repeat });
    results.push(result);
    const unexpected = result.errors > 0 ? `  outcomes ${JSON.stringify(result.outcomes)}` : "";
    process.stderr.write(
      `[${repeat}/${options.repeats}] ${config.target} ${config.protocol} ${config.workload}: ` +
        `${result.reqPerSec.toFixed(0)} req/s, p99 ${result.p99Ms.toFixed(1)} ms${unexpected}\n`,
    );
  }
}

const rows = summarize(results);
console.log(`\n${formatTable(rows)}\n`);
const resultsFile = join(benchDir, "results.json");
const report = { date: new Date().toISOString(), environment: env, options, summary: rows, runs: results };
writeFileSync(resultsFile, `${JSON.stringify(report, null, 2)}\n`);
const took = ((Date.now() - started) / 1000).toFixed(0);
console.log(`took ${took} s; load average (1 min) now ${os.loadavg()[0]?.toFixed(2)}; results in ${resultsFile}`);
if (rows.some((row) => row.errors > 0)) process.exitCode = 1;
