// `npm run bench -- --compare-commit=<ref>` and `--compare-flags=<node flags>` (each repeatable), and
// `--compare-workload=wrong-code`: verifyd's gRPC VerifyPhone (REST with `--compare-protocol=rest`) as this tree builds
// it, against the build of another commit, against this build started with other Node flags, and against this build
// answering wrong codes, with the grpc-js peer (the Fastify peer) beside them: all running at once and loaded in turn,
// in short bursts, each round starting one further along. On a shared machine whose speed drifts by tens of percent
// within minutes, two rows measured a minute apart cannot show a 5% difference; bursts interleaved within seconds of
// each other meet the same drift, and the per-round ratios show how much is left. Each verifyd runs on its own copy of
// the seeded file: on one file, each would see the other's commits as another process's, and pay for what that costs
// (its remembered settings dropped).
import { execFileSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, rmSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { startLoadGenerator } from "./load/generator-process.js";
import type { Workload } from "./load/load-job.js";
import type { BenchOptions, ComparedProtocol } from "./options.js";
import { type Target, protocolNames } from "./rows.js";
import { repoRoot } from "./server-process.js";
import { median } from "./stats.js";
import type { HeapTotals } from "./in-server/heap-meter.js";
import { heapPerCall } from "./measure-row.js";
import { type Servers, type StartVariant, addHeapTotals, noHeapTotals, prepareTargets, sqliteDataDir } from "./targets.js";
import { benchDir } from "./verifyd.js";

interface Contender {
  name: string;
  /** The build it runs: this tree's, or another commit's directory. */
  build: string;
  /** The contender of the same build answering successes, that a workload's calls are compared with as well. */
  successOfBuild?: Contender;
  servers: Servers;
  generator: ReturnType<typeof startLoadGenerator>;
  /** The next unused user of its database, and the end of the seeded users. */
  next: number;
  end: number;
  cpuSeconds: number;
  heap: HeapTotals;
  calls: number;
  perRound: number[];
  /** Read at the end of the rounds, while the process still runs. */
  peakRssMiB?: number;
}

export async function runComparison(options: BenchOptions): Promise<void> {
  // Each other commit answers the compared workloads too, so that a change to a wrong code's path is measured on it.
  const variants: [string, StartVariant, Workload][] = [
    ...options.compareCommits.flatMap((ref) => {
      const variant = { buildDir: buildCommit(ref) };
      return [
        [`verifyd at ${ref}`, variant, "success"],
        ...options.compareWorkloads.map((workload) => [`verifyd at ${ref}, ${workload}`, variant, workload]),
      ] as [string, StartVariant, Workload][];
    }),
    ...options.compareFlags.map((flags): [string, StartVariant, Workload] => [`verifyd ${flags}`, { nodeFlags: flags.split(" ").filter(Boolean) }, "success"]),
    ...options.compareWorkloads.map((workload): [string, StartVariant, Workload] => [`verifyd, ${workload}`, {}, workload]),
  ];
  const targets = await prepareTargets({ users: options.users, peers: true });
  const contenders: Contender[] = [];
  const copyOfSeeded = (index: number) => {
    const dataDir = join(benchDir, "compare-data", String(index));
    rmSync(dataDir, { recursive: true, force: true });
    cpSync(sqliteDataDir, dataDir, { recursive: true });
    return dataDir;
  };
  // Each of verifyd's starts calls the same users, each on its own copy of the file: the same rows at the same places.
  // With a block of users each, this tree's build compared with itself came out 2.3–2.7% cheaper on the second block.
  const enter = async (name: string, start: Promise<Servers>, first: number, end: number, workload: Workload = "success", build = "") => {
    const servers = await start;
    const generator = startLoadGenerator({ urls: servers.urls, protocol: options.compareProtocol, rpc: "verify-phone", workload, token: servers.token });
    const successOfBuild = workload === "success" ? undefined : contenders.find((other) => other.build === build && !other.successOfBuild);
    contenders.push({ name, build, servers, generator, next: first, end, cpuSeconds: 0, heap: noHeapTotals, calls: 0, perRound: [], ...(successOfBuild ? { successOfBuild } : {}) });
  };
  try {
    await enter("verifyd (this tree)", targets.start("verifyd", "compare-0", { dataDir: copyOfSeeded(0) }), 0, options.users);
    for (const [index, [name, variant, workload]] of variants.entries()) {
      const start = targets.start("verifyd", `compare-${index + 1}`, { ...variant, dataDir: copyOfSeeded(index + 1) });
      await enter(name, start, 0, options.users, workload, variant.buildDir);
    }
    const peer = peerOf[options.compareProtocol];
    await enter(peer, targets.start(peer, "compare-peer"), 0, options.users);
    for (const contender of contenders) {
      const warmup = await contender.generator.run({ mode: "closed", seconds: options.warmupSeconds, first: contender.next, limit: Math.min(options.warmupCalls, contender.end - contender.next) });
      contender.next += warmup.count;
    }
    for (let round = 0; round < options.rounds; round++) {
      for (const contender of rotated(contenders, round)) {
        const counting = await contender.servers.startCounting();
        const burst = await contender.generator.run({ mode: "closed", seconds: options.saturationSeconds, first: contender.next, limit: contender.end - contender.next });
        // What a burst leaves running (V8's concurrent marking and sweeping, a last commit) is its own server's cost:
        // counted with it, not left to fall into the next contender's burst.
        await new Promise((resolve) => setTimeout(resolve, burstTailMs));
        const { serverSeconds, heap } = await counting();
        if (burst.count === 0) throw new Error(`${contender.name} ran out of users: give --users more`);
        contender.next += burst.count;
        contender.cpuSeconds += serverSeconds;
        contender.heap = addHeapTotals(contender.heap, heap);
        contender.calls += burst.count;
        contender.perRound.push((serverSeconds * 1e6) / burst.count);
      }
    }
    for (const contender of contenders) contender.peakRssMiB = contender.servers.peakRssMiB();
  } finally {
    targets.sink.release();
    for (const contender of contenders) {
      await contender.servers.stop();
      await contender.generator.close();
    }
    await targets.close();
    rmSync(join(benchDir, "compare-data"), { recursive: true, force: true });
  }
  const [baseline] = contenders as [Contender];
  console.log(`\n${options.rounds} rounds of ${options.saturationSeconds} s bursts each; server CPU per ${protocolNames[options.compareProtocol]} VerifyPhone call:`);
  for (const contender of contenders) {
    const { successOfBuild } = contender;
    const heap = heapPerCall(contender.heap, contender.calls);
    const toItsSuccess = successOfBuild && successOfBuild !== baseline ? `; to its success's ${ratioOf(contender, successOfBuild)}` : "";
    console.log(
      `${contender.name.padEnd(40)} ${((contender.cpuSeconds * 1e6) / contender.calls).toFixed(0).padStart(5)} µs per call, ` +
        `${contender.calls} calls, peak RSS ${contender.peakRssMiB?.toFixed(0)} MiB, ` +
        `${heap.allocatedKB.toFixed(1)} KB allocated, ${heap.promotedKB.toFixed(2)} KB promoted and ${heap.gcPauseUs.toFixed(0)} µs of GC pauses per call; ` +
        `to this tree's ${ratioOf(contender, baseline)}${toItsSuccess}`,
    );
  }
}

const peerOf = { grpc: "grpc-js peer", rest: "Fastify peer" } as const satisfies Record<ComparedProtocol, Target>;

/**
 * The contenders in the order of a round: each round starts one further along, so that each takes every place in turn
 * and none runs two bursts back to back. What a server leaves over from a burst (V8's sweeping, a memory reducer's
 * collection) falls into its idle time, uncounted, unless its next burst follows at once: with the order reversed
 * every round, the first and the last ran back to back at every turn, and this tree's build, always first, came out
 * dearer than itself started twice more (README, performance, "What a comparison can resolve, measured").
 */
function rotated<T>(items: readonly T[], round: number): T[] {
  const start = round % items.length;
  return [...items.slice(start), ...items.slice(0, start)];
}

/** Long enough for a full collection's concurrent work after a 2-second burst (tens of milliseconds in V8's trace). */
const burstTailMs = 300;

/** Over all rounds, then the median and range of the per-round ratios. */
function ratioOf(contender: Contender, base: Contender): string {
  const ratios = contender.perRound.map((micros, round) => micros / (base.perRound[round] as number));
  return (
    `${((contender.cpuSeconds / contender.calls) / (base.cpuSeconds / base.calls)).toFixed(3)} ` +
    `(per round: median ${median(ratios).toFixed(3)}, ${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)})`
  );
}

/**
 * Builds `ref` as `npm run build` does (from its own sources, with this tree's node_modules) into .bench/compare/, once
 * per commit. Its verifyd runs on a copy of the database this tree seeds, so the two must agree on the schema.
 */
function buildCommit(ref: string): string {
  const git = (...args: string[]) => execFileSync("git", args, { cwd: repoRoot, encoding: "utf8" }).trim();
  const commit = git("rev-parse", "--verify", `${ref}^{commit}`);
  if (git("diff", "--name-only", commit, "--", "src/store/sqlite/migrations") !== "") {
    throw new Error(`--compare-commit=${ref}: its SQLite migrations differ from this tree's; compare by separate runs instead`);
  }
  const dir = join(benchDir, "compare", commit);
  const buildDir = join(dir, "build");
  if (existsSync(join(buildDir, "main.js"))) return buildDir;
  const sourceDir = join(dir, "source");
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(sourceDir, { recursive: true });
  execFileSync("sh", ["-c", `git archive ${commit} | tar -x -C "${sourceDir}"`], { cwd: repoRoot });
  symlinkSync(join(repoRoot, "node_modules"), join(sourceDir, "node_modules"));
  process.stderr.write(`building ${ref} (${commit.slice(0, 7)})...\n`);
  execFileSync(join(repoRoot, "node_modules", ".bin", "tsx"), [join(sourceDir, "scripts", "build.ts"), "--out-dir", buildDir], { cwd: sourceDir, stdio: "pipe" });
  rmSync(sourceDir, { recursive: true, force: true });
  return buildDir;
}
