// One run of one row: fresh server processes (so their peak RSS is the row's own), a load generator of its own, a
// warm-up, the saturation phase (throughput, latency under full load, CPU per call: the servers', and on PostgreSQL
// its backends') and a fixed-rate phase at half the throughput just measured (latency as a service sees it in normal
// operation), and for a peer, a second fixed-rate phase at the rate verifyd's row was held at.
import { startLoadGenerator } from "./load/generator-process.js";
import type { Pacing, PhaseResult } from "./load/load-job.js";
import type { BenchOptions } from "./options.js";
import { type Row, expectedOutcome } from "./rows.js";
import type { HeapTotals } from "./in-server/heap-meter.js";
import type { Targets } from "./targets.js";
import type { UserPools } from "./user-pools.js";

export interface RowRun {
  rowId: string;
  repeat: number;
  saturation: PhaseResult;
  /** The fixed-rate phase and the rate it was asked to hold. */
  fixedRate: PhaseResult & { rate: number };
  /** A peer's phase at its verifyd row's fixed rate (Row.sameRateAs), when that row ran in the same repeat. */
  sameRate?: PhaseResult & { rate: number };
  /** Summed over the row's server processes. */
  serverCpuUsPerCall: number;
  /** PostgreSQL's backends serving the bench's database; absent for rows on SQLite, whose work is the server's. */
  databaseCpuUsPerCall?: number;
  /** Over the saturation phase, summed over the row's server processes (bench/in-server/heap-meter.ts). */
  heapPerCall: HeapPerCall;
  peakRssMiB: number;
  /** Calls in any phase, warm-up included, that did not end as the row's calls must. */
  errors: number;
  unexpected: Record<string, number>;
}

export interface HeapPerCall {
  allocatedKB: number;
  promotedKB: number;
  /** The main thread's garbage collection pauses. */
  gcPauseUs: number;
}

export function heapPerCall(heap: HeapTotals, calls: number): HeapPerCall {
  return {
    allocatedKB: heap.allocatedBytes / 1024 / calls,
    promotedKB: heap.promotedBytes / 1024 / calls,
    gcPauseUs: (heap.pauseSeconds * 1e6) / calls,
  };
}

export interface RowContext {
  options: BenchOptions;
  targets: Targets;
  pools: UserPools;
}

/** `sameRate`: the fixed rate of the row named by row.sameRateAs in this repeat, if it ran. */
export async function measureRow(row: Row, repeat: number, { options, targets, pools }: RowContext, sameRate?: number): Promise<RowRun> {
  targets.sink.hold();
  const server = await targets.start(row.target, `${row.id}-${repeat}`);
  const generator = startLoadGenerator({ urls: server.urls, protocol: row.protocol, rpc: row.rpc, workload: row.workload, token: server.token });
  const expected = expectedOutcome(row);
  const unexpected: Record<string, number> = {};
  const users = pools.claim(row);
  const run = async (pacing: Pacing, seconds: number, maxCalls: number): Promise<PhaseResult> => {
    const { first, limit } = users.next(maxCalls);
    const result = await generator.run({ ...pacing, seconds, first, limit });
    users.take(result.count);
    if (result.count === limit && limit < maxCalls) {
      process.stderr.write(`warning: ${row.id} ran out of users; its phase is shorter: give a larger --users\n`);
    }
    for (const [outcome, times] of Object.entries(result.outcomes)) {
      if (outcome !== expected) unexpected[outcome] = (unexpected[outcome] ?? 0) + times;
    }
    return result;
  };
  try {
    // As much warm-up for each process as for one alone: each JIT warms on the calls it serves, half of them with two.
    const processes = server.urls.length;
    // The warm-up leaves at least three quarters of the run's users to the measured phases...
    const warmupCalls = Math.min(options.warmupCalls * processes, Math.floor(users.left / 4));
    if (warmupCalls > 0) await run({ mode: "closed" }, options.warmupSeconds * processes, warmupCalls);
    const countedSoFar = await server.startCounting();
    // ...and saturation leaves the fixed-rate phases what they need at half its rate (a peer's phase at verifyd's rate
    // needs no more: verifyd's half peak is below the peer's).
    const fixedRatePhases = sameRate === undefined ? 1 : 2;
    const saturationShare = options.saturationSeconds / (options.saturationSeconds + (fixedRatePhases * options.fixedRateSeconds) / 2);
    const saturation = await run({ mode: "closed" }, options.saturationSeconds, Math.floor(users.left * saturationShare));
    const counted = await countedSoFar();
    const rate = saturation.count / saturation.seconds / 2;
    const fixedRate = await run({ mode: "open", rate }, options.fixedRateSeconds, Math.floor(users.left / fixedRatePhases));
    const atSameRate = sameRate === undefined ? undefined : await run({ mode: "open", rate: sameRate }, options.fixedRateSeconds, users.left);
    return {
      rowId: row.id,
      repeat,
      saturation,
      fixedRate: { ...fixedRate, rate },
      ...(atSameRate && sameRate !== undefined ? { sameRate: { ...atSameRate, rate: sameRate } } : {}),
      serverCpuUsPerCall: (counted.serverSeconds * 1e6) / saturation.count,
      ...(counted.databaseSeconds === undefined ? {} : { databaseCpuUsPerCall: (counted.databaseSeconds * 1e6) / saturation.count }),
      heapPerCall: heapPerCall(counted.heap, saturation.count),
      peakRssMiB: server.peakRssMiB(),
      errors: Object.values(unexpected).reduce((sum, count) => sum + count, 0),
      unexpected,
    };
  } finally {
    // Deliveries held during the row must not hold up the server's shutdown.
    targets.sink.release();
    // Servers first: a graceful close ends the generator's HTTP/2 sessions with GOAWAY, where closing the client
    // first would reset streams and make the server log connection errors.
    await server.stop();
    await generator.close();
  }
}
