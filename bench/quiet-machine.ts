// Before each row, a wait until the machine's cores are idle. A row may leave work running after its load stops
// (PostgreSQL's checkpoint and autovacuum after its rows, a server's last writes, the machine's other tenants), and the
// row after it would pay for that in throughput.
import { readFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";

/** The share of the cores' time that may be busy over one sample and still count as quiet. */
const maxBusy = 0.1;
const sampleMs = 250;
/** A machine that never quiets down is measured as it is. */
const maxSeconds = 30;

/** Waits until one sample finds the cores quiet, or `maxSeconds` passed; returns the seconds waited. */
export async function waitForQuietMachine(): Promise<number> {
  const started = performance.now();
  let before = cpuTimes();
  if (before === undefined) return 0;
  while (performance.now() - started < maxSeconds * 1000) {
    await sleep(sampleMs);
    const after = cpuTimes();
    if (after === undefined) break;
    const total = after.total - before.total;
    if (total > 0 && (after.busy - before.busy) / total <= maxBusy) break;
    before = after;
  }
  return (performance.now() - started) / 1000;
}

/**
 * All cores' time since boot from Linux's /proc/stat, in clock ticks; undefined where there is none. Busy is the
 * machine's own work (user, nice, system, interrupts); time stolen by the hypervisor is neither busy nor ours to wait for.
 */
function cpuTimes(): { busy: number; total: number } | undefined {
  let firstLine: string | undefined;
  try {
    firstLine = readFileSync("/proc/stat", "utf8").split("\n", 1)[0];
  } catch {
    return undefined;
  }
  const [user, nice, system, idle, iowait, irq, softirq] = (firstLine ?? "").trim().split(/\s+/).slice(1, 8).map(Number);
  if (softirq === undefined || Number.isNaN(softirq)) return undefined;
  const busy = user! + nice! + system! + irq! + softirq;
  return { busy, total: busy + idle! + iowait! };
}
