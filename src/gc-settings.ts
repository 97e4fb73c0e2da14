// V8's garbage collector as verifyd sets it at start, each setting measured in `npm run bench` (README: Performance).
// An operator's own value of any of these flags, on node's command line or in NODE_OPTIONS, is kept.
import v8 from "node:v8";

interface GcSetting {
  /** The flag, without a value or `no-`. */
  flag: string;
  /** What verifyd sets when node was started without the flag. */
  value: string;
}

const settings: readonly GcSetting[] = [
  // How far V8 lets the heap grow past what survived its last full collection before it collects again. Left to its
  // own heuristics, V8 let verifyd's heap reach about 250 MiB of resident memory under load while the live objects
  // stayed far below that; capped at 30% growth, about 160 MiB at the same CPU per call (step 13).
  { flag: "--heap-growing-percent", value: "--heap-growing-percent=30" },
  // Under load a call's objects outlive a young collection while they wait for their commit, so V8 learns to allocate
  // objects of those kinds straight in the old generation. Most die with their call, but until the next full
  // collection they keep alive every young object they point to, and those are promoted in turn: without it, 0.91 of
  // the CPU per call and a third less promoted (step 28).
  { flag: "--allocation-site-pretenuring", value: "--no-allocation-site-pretenuring" },
];

export function applyGcSettings(execArgv: readonly string[], nodeOptions: string | undefined): void {
  for (const { flag, value } of settings) if (!flagGiven(flag, execArgv, nodeOptions)) v8.setFlagsFromString(value);
}

/** Whether node was started with the flag, in any of V8's spellings: `--flag`, `--no-flag`, `--flag=…`, underscores. */
export function flagGiven(flag: string, execArgv: readonly string[], nodeOptions: string | undefined): boolean {
  const name = flag.slice(2);
  return [...execArgv, ...(nodeOptions ?? "").split(/\s+/)]
    .map((option) => option.replaceAll("_", "-"))
    .some((option) => option === `--${name}` || option === `--no-${name}` || option.startsWith(`--${name}=`));
}
