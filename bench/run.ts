// `npm run bench [-- --quick]`: verifyd's VerifyPhone over gRPC, Connect, gRPC-Web and REST, its wrong-code path and
// AddHumanUser with send_code, against peers written by hand (@grpc/grpc-js, Fastify) doing the same work, and
// VerifyPhone with two verifyd processes on one SQLite file, and on PostgreSQL with one and with two (the rows of two
// processes in the full run only, or named with --rows); every server in its own process and the load
// generator in another; prints the table, the issue's ratios and what bounds them. Options: see options.ts;
// --profile: see profile.ts; --compare-commit, --compare-flags and --compare-workload: see compare.ts.
import { writeFileSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import { type RowRun, measureRow } from "./measure-row.js";
import { readBenchOptions } from "./options.js";
import { describePostgres } from "./postgres.js";
import { runComparison } from "./compare.js";
import { runProfile } from "./profile.js";
import { bounds, environment, formatRatios, formatTable, ratios, summarize } from "./report.js";
import { databaseOf, describeRow, rows } from "./rows.js";
import { prepareTargets } from "./targets.js";
import { waitForQuietMachine } from "./quiet-machine.js";
import { UserPools } from "./user-pools.js";
import { benchDir } from "./verifyd.js";

const options = (() => {
  try {
    return readBenchOptions(process.argv.slice(2));
  } catch (error) {
    console.error(`bench: ${(error as Error).message}; see bench/options.ts`);
    process.exit(2);
  }
})();
if (options.profile) {
  await runProfile(options);
  process.exit();
}
if (options.compareCommits.length > 0 || options.compareFlags.length > 0 || options.compareWorkloads.length > 0) {
  await runComparison(options);
  process.exit();
}

const chosen = rows.filter((row) => (options.rows ? options.rows.includes(row.id) : !(options.quick && row.fullRunOnly)));
const onPostgres = chosen.some((row) => databaseOf[row.target] === "verifyd's PostgreSQL");
const env = environment();
const started = Date.now();
console.log(`${env.date}, commit ${env.commit}; ${env.cpus} × ${env.cpuModel}; Node ${env.node}; ${env.platform}`);
console.log(
  `${options.quick ? "quick" : "full"} run: ${options.users.toLocaleString("en")} users seeded; per row a warm-up of ${options.warmupCalls} calls ` +
    `(at most ${options.warmupSeconds} s), ` +
    `${options.saturationSeconds} s at saturation, ${options.fixedRateSeconds} s at half that rate; median of ${options.repeats} run(s); ` +
    `load average (1 min) at start ${env.loadAverage1m.toFixed(2)}`,
);
if (onPostgres) {
  console.log(`${await describePostgres(options.postgres)}: the same users in ${new URL(options.postgres).pathname.slice(1)}, replaced by this run`);
}

const targets = await prepareTargets({
  users: options.users,
  peers: chosen.some((row) => databaseOf[row.target] === "the peers'"),
  ...(onPostgres ? { postgres: { url: options.postgres, users: options.users } } : {}),
});
const pools = new UserPools(() => options.users, chosen, options.repeats);

const runs: RowRun[] = [];
try {
  // Repeats outermost, so a slow phase of the machine spreads over all rows instead of hitting one.
  for (let repeat = 1; repeat <= options.repeats; repeat++) {
    for (const row of chosen) {
      const waited = await waitForQuietMachine();
      if (waited >= 2) process.stderr.write(`waited ${waited.toFixed(1)} s for the cores to go quiet before ${describeRow(row)}\n`);
      const sameRate = runs.find((done) => done.rowId === row.sameRateAs && done.repeat === repeat)?.fixedRate.rate;
      const run = await measureRow(row, repeat, { options, targets, pools }, sameRate);
      runs.push(run);
      const unexpected = run.errors > 0 ? `  UNEXPECTED ${JSON.stringify(run.unexpected)}` : "";
      process.stderr.write(
        `[${repeat}/${options.repeats}] ${describeRow(row)}: ${(run.saturation.count / run.saturation.seconds).toFixed(0)} req/s, ` +
          `p99 ${run.saturation.p99Ms.toFixed(1)} ms; at ${run.fixedRate.rate.toFixed(0)}/s p99 ${run.fixedRate.p99Ms.toFixed(1)} ms` +
          `${run.sameRate ? `; at ${run.sameRate.rate.toFixed(0)}/s p99 ${run.sameRate.p99Ms.toFixed(1)} ms` : ""}${unexpected}\n`,
      );
    }
  }
} finally {
  await targets.close();
}

const summaries = summarize(runs);
const ratioList = ratios(runs, summaries, options.users);
const bounding = bounds(summaries, env.cpus);
console.log(`\n${formatTable(summaries)}\n\n${formatRatios(ratioList)}\n${bounding.length > 0 ? `\n${bounding.join("\n")}\n` : ""}`);
const resultsFile = join(benchDir, "results.json");
writeFileSync(resultsFile, `${JSON.stringify({ environment: env, options, summaries, ratios: ratioList, bounds: bounding, runs }, null, 2)}\n`);
const took = ((Date.now() - started) / 1000).toFixed(0);
console.log(`took ${took} s; load average (1 min) now ${os.loadavg()[0]?.toFixed(2)}; results in ${resultsFile}`);
if (summaries.some((summary) => summary.errors > 0)) process.exitCode = 1;
