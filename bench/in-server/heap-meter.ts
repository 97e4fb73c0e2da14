// Loaded into every server under test (`node --import`): counts what V8's garbage collector sees, so that the bench
// can print per call what CPU time on a noisy machine cannot resolve. Bytes allocated, bytes promoted to the old
// generation and the main thread's collection pauses are counts of the process's own work: they hold still while
// the machine's speed drifts.
//
// Each SIGUSR2 appends the totals since the start as one JSON line to the file named by BENCH_HEAP_METER_FILE;
// the bench sends one before and one after a phase and subtracts.
import { appendFileSync } from "node:fs";
import { GCProfiler, type GCProfilerResult, getHeapStatistics } from "node:v8";

export interface HeapTotals {
  /** Bytes allocated on V8's heap: what the used heap grew by between collections, and since the last one. */
  allocatedBytes: number;
  /** Bytes a young collection moved into the old generation (the old and large-object spaces' growth across it). */
  promotedBytes: number;
  /** The main thread's time in collections (V8's helper threads are not in it). */
  pauseSeconds: number;
  collections: number;
}

type Collection = GCProfilerResult["statistics"][number];
type HeapSide = Collection["beforeGC"];

const oldSpaces = new Set(["old_space", "large_object_space"]);

const outFile = process.env.BENCH_HEAP_METER_FILE;
if (outFile) meterInto(outFile);

function meterInto(file: string): void {
  const totals: HeapTotals = { allocatedBytes: 0, promotedBytes: 0, pauseSeconds: 0, collections: 0 };
  let usedAfterLast = getHeapStatistics().used_heap_size;
  let profiler = new GCProfiler();
  profiler.start();
  process.on("SIGUSR2", () => {
    const { statistics } = profiler.stop();
    profiler = new GCProfiler();
    profiler.start();
    for (const collection of statistics) {
      totals.allocatedBytes += collection.beforeGC.heapStatistics.usedHeapSize - usedAfterLast;
      usedAfterLast = collection.afterGC.heapStatistics.usedHeapSize;
      if (collection.gcType === "Scavenge") totals.promotedBytes += oldUse(collection.afterGC) - oldUse(collection.beforeGC);
      totals.pauseSeconds += collection.cost / 1e6;
      totals.collections += 1;
    }
    const sinceLast = getHeapStatistics().used_heap_size - usedAfterLast;
    appendFileSync(file, `${JSON.stringify({ ...totals, allocatedBytes: totals.allocatedBytes + sinceLast })}\n`);
  });
}

function oldUse(side: HeapSide): number {
  return side.heapSpaceStatistics.reduce((sum, space) => sum + (oldSpaces.has(space.spaceName) ? space.spaceUsedSize : 0), 0);
}
