// A closed-loop load generator: `concurrency` workers, each starting its next call as soon as the last one answers,
// so exactly that many calls are in flight until the requests run out.
import { performance } from "node:perf_hooks";
import type { Outcome } from "./verify-clients.js";

export interface LoadResult {
  seconds: number;
  /** One entry per call, in completion order. */
  latenciesMs: Float64Array;
  /** How many calls ended how: "ok", "code 3", ... */
  outcomes: Record<Outcome, number>;
  /** CPU time of this (the load generator's) process during the run. */
  clientCpuSeconds: number;
}

/** Calls call(i) for i in [first, first + count). */
export async function runLoad(
  count: number,
  concurrency: number,
  call: (index: number) => Promise<Outcome>,
  first = 0,
): Promise<LoadResult> {
  const latenciesMs = new Float64Array(count);
  const outcomes: Record<Outcome, number> = {};
  let next = 0;
  let done = 0;
  const worker = async () => {
    while (next < count) {
      const index = next++;
      const started = performance.now();
      const outcome = await call(first + index);
      latenciesMs[done++] = performance.now() - started;
      outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
    }
  };
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  return { seconds, latenciesMs, outcomes, clientCpuSeconds: (cpu.user + cpu.system) / 1e6 };
}
