// The two ways the load generator paces its calls, with latency, outcomes and its own CPU time for each phase.
import { performance } from "node:perf_hooks";
import { percentile } from "../stats.js";
import type { PhaseResult } from "./load-job.js";

/** Sends call `index` (0-based within the phase) on `slot`, and tells how it ended. */
export type SendCall = (index: number, slot: number) => Promise<string>;

/**
 * Saturation: `slots` calls in flight at every moment, each slot starting its next call when its last one ends, until
 * `seconds` have passed or `limit` calls were started; the calls under way then are waited for.
 */
export function closedLoop(seconds: number, limit: number, slots: number, send: SendCall): Promise<PhaseResult> {
  return measure(async (record) => {
    const deadline = performance.now() + seconds * 1000;
    let next = 0;
    const worker = async (slot: number) => {
      while (next < limit && performance.now() < deadline) {
        const index = next++;
        const started = performance.now();
        record(await send(index, slot), started);
      }
    };
    await Promise.all(Array.from({ length: Math.min(slots, limit) }, (_, slot) => worker(slot)));
  });
}

/**
 * A fixed rate: call i is due at start + i / rate and sent then (timers allow about a millisecond of slack), however
 * many calls are still waiting for answers. Latency counts from when a call was due, so a server that falls behind
 * shows it in the latency instead of quietly slowing the sender down (coordinated omission).
 */
export function openLoop(count: number, rate: number, slots: number, send: SendCall): Promise<PhaseResult> {
  return measure((record) => {
    const start = performance.now();
    const dueAt = (index: number) => start + (index * 1000) / rate;
    return new Promise<void>((resolve) => {
      let sent = 0;
      let answered = 0;
      const tick = () => {
        const due = Math.min(count, Math.floor(((performance.now() - start) * rate) / 1000) + 1);
        for (; sent < due; sent++) {
          const index = sent;
          void send(index, index % slots).then((outcome) => {
            record(outcome, dueAt(index));
            if (++answered === count) resolve();
          });
        }
        if (sent < count) setTimeout(tick, Math.max(0, dueAt(sent) - performance.now()));
      };
      tick();
    });
  });
}

async function measure(run: (record: (outcome: string, startedAt: number) => void) => Promise<void>): Promise<PhaseResult> {
  const latenciesMs: number[] = [];
  const outcomes: Record<string, number> = {};
  const record = (outcome: string, startedAt: number) => {
    latenciesMs.push(performance.now() - startedAt);
    outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
  };
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  await run(record);
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  const samples = Float64Array.from(latenciesMs);
  return {
    count: latenciesMs.length,
    seconds,
    p50Ms: percentile(samples, 50),
    p99Ms: percentile(samples, 99),
    outcomes,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
  };
}
