// How far V8 lets the heap grow past what survived its last full collection before it collects again. Left to its
// own heuristics, V8 let verifyd's heap reach about 250 MiB of resident memory under load while the live objects
// stayed far below that; capped at 30% growth, `npm run bench -- --compare-flags=…` measured about 160 MiB at the
// same CPU per call (see the README's performance section). An operator's own --heap-growing-percent, on node's
// command line or in NODE_OPTIONS, is kept.
import v8 from "node:v8";

const flag = "--heap-growing-percent";
const defaultGrowingPercent = 30;

export function limitHeapGrowth(execArgv: readonly string[], nodeOptions: string | undefined): void {
  if (!heapGrowthGiven(execArgv, nodeOptions)) v8.setFlagsFromString(`${flag}=${defaultGrowingPercent}`);
}

/** Whether node was started with its own --heap-growing-percent (V8 also reads it with underscores). */
export function heapGrowthGiven(execArgv: readonly string[], nodeOptions: string | undefined): boolean {
  return [...execArgv, ...(nodeOptions ?? "").split(/\s+/)]
    .map((option) => option.replaceAll("_", "-"))
    .some((option) => option === flag || option.startsWith(`${flag}=`));
}
