// Reads a V8 .cpuprofile (what node --cpu-prof writes) and ranks functions by self time: the time a function was
// on top of the stack, which is where the CPU actually went, as opposed to what it merely called. verifyd's own
// functions are also ranked by total time (anywhere on the stack): what a call to them costs with all beneath.
import { readFileSync } from "node:fs";

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  /** Microseconds between consecutive samples; timeDeltas[i] precedes samples[i]. */
  timeDeltas: number[];
}

export interface SelfTime {
  name: string;
  /** Where it is defined: path:line:column, shortened; native functions and V8's pseudo-frames have none. */
  location: string;
  /** The part of the code base it belongs to, e.g. "src/store", "drizzle-orm", "node internals". */
  area: string;
  ms: number;
  share: number;
  /**
   * The src/ function it most often ran under, and for what part of its time: library and Node time is actionable
   * only through our caller. Absent when no src/ frame was on the stack (e.g. library callbacks from the event loop).
   */
  calledFrom?: string;
}

interface Tally {
  name: string;
  location: string;
  area: string;
  us: number;
  /** Self time by the nearest src/ frame on the stack. */
  from: Map<string, number>;
}

/**
 * `buildDir` is where the profiled verifyd's compiled code was: its files are shown as the src/ files they were
 * compiled from (src/store/x.js for src/store/x.ts), with the compiled lines.
 */
export function rankProfile(
  file: string,
  repoRoot: string,
  buildDir: string,
): { total: number; functions: SelfTime[]; areas: SelfTime[]; ourTotals: SelfTime[] } {
  const profile = JSON.parse(readFileSync(file, "utf8")) as CpuProfile;
  for (const node of profile.nodes) node.callFrame.url = node.callFrame.url.replace(`file://${buildDir}/`, `file://${repoRoot}/src/`);
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const parents = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parents.set(child, node.id);
  const nearestSrcFrame = (id: number): string | undefined => {
    for (let current: number | undefined = id; current !== undefined; current = parents.get(current)) {
      const frame = (nodes.get(current) as ProfileNode).callFrame;
      if (frame.url.includes(`${repoRoot}/src/`)) return `${nameOf(frame)} ${shortLocation(frame, repoRoot)}`;
    }
    return undefined;
  };

  const byFunction = new Map<string, Tally>();
  const byArea = new Map<string, Tally>();
  const ours = new Map<string, Tally>();
  let totalUs = 0;
  profile.samples.forEach((id, index) => {
    // A sample stands for the interval up to the next one, as DevTools counts it.
    const us = profile.timeDeltas[index + 1] ?? 0;
    const frame = (nodes.get(id) as ProfileNode).callFrame;
    const location = shortLocation(frame, repoRoot);
    const area = areaOf(frame, repoRoot);
    const caller = nearestSrcFrame(id);
    add(byFunction, `${frame.functionName}@${location}`, { name: nameOf(frame), location, area }, us, caller);
    add(byArea, area, { name: area, location: "", area }, us, undefined);
    // Once per sample, even when recursive. An async function is on the stack only since it last resumed: what it
    // awaited before shows under the microtask queue, not under it.
    const counted = new Set<string>();
    for (let current: number | undefined = id; current !== undefined; current = parents.get(current)) {
      const onStack = (nodes.get(current) as ProfileNode).callFrame;
      const where = shortLocation(onStack, repoRoot);
      if (!where.startsWith("src/") || counted.has(where)) continue;
      counted.add(where);
      add(ours, where, { name: nameOf(onStack), location: where, area: areaOf(onStack, repoRoot) }, us, undefined);
    }
    totalUs += us;
  });

  const rank = (tallies: Map<string, Tally>): SelfTime[] =>
    [...tallies.values()]
      .sort((a, b) => b.us - a.us)
      .map(({ us, from, ...rest }) => {
        const [top] = [...from].sort((a, b) => b[1] - a[1]);
        // With its share: a caller behind a minority of the time must not read as the whole story.
        const calledFrom = top && `${top[0]} (${Math.round((top[1] / us) * 100)}% of it)`;
        return { ...rest, ms: us / 1000, share: us / totalUs, ...(calledFrom ? { calledFrom } : {}) };
      });
  return { total: totalUs / 1000, functions: rank(byFunction), areas: rank(byArea), ourTotals: rank(ours) };
}

function add(tallies: Map<string, Tally>, key: string, what: Omit<Tally, "us" | "from">, us: number, caller?: string) {
  const tally = tallies.get(key) ?? { ...what, us: 0, from: new Map<string, number>() };
  tally.us += us;
  if (caller) tally.from.set(caller, (tally.from.get(caller) ?? 0) + us);
  tallies.set(key, tally);
}

const nameOf = (frame: CallFrame) => frame.functionName || "(anonymous)";

/** path:line:column, 1-based; for src/ files the line and column of the compiled .js file. */
function shortLocation(frame: CallFrame, repoRoot: string): string {
  if (!frame.url) return "";
  const path = frame.url.replace(/^file:\/\//, "").replace(`${repoRoot}/`, "").replace(/^.*node_modules\//, "");
  return `${path}:${frame.lineNumber + 1}:${frame.columnNumber + 1}`;
}

/** Groups code by package (node_modules), by src/ directory, or as Node's and V8's own work. */
function areaOf(frame: CallFrame, repoRoot: string): string {
  const { url, functionName } = frame;
  // No script: V8's pseudo-frames such as "(garbage collector)", or C++ called from JS (writev, SQLite, hashing).
  if (!url) return functionName.startsWith("(") ? functionName : "native (C++ bindings)";
  if (url.startsWith("node:")) return "node internals";
  const inPackage = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (inPackage) return inPackage[1] as string;
  const directory = /^(src\/[^/]+|[^/]+)/.exec(url.replace(/^file:\/\//, "").replace(`${repoRoot}/`, ""))?.[1] ?? url;
  return /\.[jt]s$/.test(directory) ? "src (root)" : directory;
}

export function formatSelfTimes(entries: readonly SelfTime[], total: number, limit: number, detailed = true): string {
  const lines = entries.slice(0, limit).map((entry, index) => {
    const share = `${(entry.share * 100).toFixed(1)}%`;
    const figures = `${String(index + 1).padStart(3)}. ${entry.ms.toFixed(0).padStart(7)} ms ${share.padStart(6)}`;
    if (!detailed) return `${figures}  ${entry.name}`;
    const where = entry.location ? `  ${entry.location}` : "";
    const ours = entry.location.startsWith("src/");
    const under = entry.calledFrom && !ours ? `\n${" ".repeat(25)}under ${entry.calledFrom}` : "";
    return `${figures}  ${entry.name}${where}  [${entry.area}]${under}`;
  });
  return [...lines, `     ${total.toFixed(0).padStart(7)} ms sampled in all`].join("\n");
}
