// `npm run bench -- --compare-flags "--max-semi-space-size=32" [--compare-flags …]`: verifyd's gRPC VerifyPhone started
// as in production and started with each set of Node flags given, with the grpc-js peer beside them, all running at
// once and loaded in turn, in short bursts, the order reversed every round. On a shared machine whose speed drifts by
// tens of percent within minutes, two rows measured a minute apart cannot show a 5% difference; bursts interleaved
// within seconds of each other meet the same drift, and the per-round ratios show how much is left.
import { startLoadGenerator } from "./load/generator-process.js";
import type { BenchOptions } from "./options.js";
import { type Servers, prepareTargets } from "./targets.js";

interface Contender {
  name: string;
  servers: Servers;
  generator: ReturnType<typeof startLoadGenerator>;
  /** The next unused user of its database, and the end of its block. */
  next: number;
  end: number;
  cpuSeconds: number;
  calls: number;
  perRound: number[];
  /** Read at the end of the rounds, while the process still runs. */
  peakRssMiB?: number;
}

export async function runFlagComparison(options: BenchOptions, flagSets: string[]): Promise<void> {
  const targets = await prepareTargets({ users: options.users, peers: true });
  const contenders: Contender[] = [];
  // verifyd's starts share one database and each uses a block of its users; the peer has a database of its own.
  const block = Math.floor(options.users / (flagSets.length + 1));
  const enter = async (name: string, start: Promise<Servers>, first: number, end: number) => {
    const servers = await start;
    const generator = startLoadGenerator({ urls: servers.urls, protocol: "grpc", rpc: "verify-phone", workload: "success", token: servers.token });
    contenders.push({ name, servers, generator, next: first, end, cpuSeconds: 0, calls: 0, perRound: [] });
  };
  try {
    await enter("verifyd", targets.start("verifyd", "compare-default"), 0, block);
    for (const [index, flags] of flagSets.entries()) {
      const nodeFlags = flags.split(" ").filter(Boolean);
      await enter(`verifyd ${flags}`, targets.start("verifyd", `compare-${index + 1}`, nodeFlags), (index + 1) * block, (index + 2) * block);
    }
    await enter("grpc-js peer", targets.start("grpc-js peer", "compare-peer"), 0, options.users);
    for (const contender of contenders) {
      const warmup = await contender.generator.run({ mode: "closed", seconds: options.warmupSeconds, first: contender.next, limit: Math.min(options.warmupCalls, contender.end - contender.next) });
      contender.next += warmup.count;
    }
    for (let round = 0; round < options.rounds; round++) {
      for (const contender of round % 2 === 0 ? contenders : [...contenders].reverse()) {
        const cpu = await contender.servers.countCpu();
        const burst = await contender.generator.run({ mode: "closed", seconds: options.saturationSeconds, first: contender.next, limit: contender.end - contender.next });
        const { serverSeconds } = await cpu();
        if (burst.count === 0) throw new Error(`${contender.name} ran out of users: give --users more`);
        contender.next += burst.count;
        contender.cpuSeconds += serverSeconds;
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
  }
  const [baseline] = contenders as [Contender];
  console.log(`\n${options.rounds} rounds of ${options.saturationSeconds} s bursts each; server CPU per gRPC VerifyPhone call:`);
  for (const contender of contenders) {
    const ratios = contender.perRound.map((micros, round) => micros / (baseline.perRound[round] as number));
    console.log(
      `${contender.name.padEnd(40)} ${((contender.cpuSeconds * 1e6) / contender.calls).toFixed(0).padStart(5)} µs per call, ` +
        `${contender.calls} calls, peak RSS ${contender.peakRssMiB?.toFixed(0)} MiB; ` +
        `to the production start ${((contender.cpuSeconds / contender.calls) / (baseline.cpuSeconds / baseline.calls)).toFixed(3)} ` +
        `(per round: median ${median(ratios).toFixed(3)}, ${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)})`,
    );
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}
