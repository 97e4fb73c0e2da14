// The bench's knobs, from flags or environment (flags win), e.g. `npm run bench -- --concurrency 64 --repeats 1`.
import { parseArgs } from "node:util";

export interface BenchOptions {
  /** In-flight calls at any moment, the same for every server and protocol. */
  concurrency: number;
  /** Timed calls per run. */
  requests: number;
  /** Untimed calls before each timed run, on the same fresh server process, so the JIT has settled. */
  warmup: number;
  /** Runs per configuration; the table shows the median. */
  repeats: number;
}

const knobs = {
  concurrency: { env: "BENCH_CONCURRENCY", default: 32 },
  // 3000 + 500 keeps the whole bench (9 configurations × 3 repeats) within about 2-3 minutes on 2 cores.
  requests: { env: "BENCH_REQUESTS", default: 3000 },
  warmup: { env: "BENCH_WARMUP", default: 500 },
  repeats: { env: "BENCH_REPEATS", default: 3 },
} as const;

export function readBenchOptions(argv: readonly string[], env: NodeJS.ProcessEnv): BenchOptions {
  const { values } = parseArgs({
    args: [...argv],
    options: Object.fromEntries(Object.keys(knobs).map((name) => [name, { type: "string" }])) as Record<
      keyof typeof knobs,
      { type: "string" }
    >,
    strict: true,
  });
  const read = (name: keyof typeof knobs): number => {
    const raw = values[name] ?? env[knobs[name].env];
    if (raw === undefined || raw === "") return knobs[name].default;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < (name === "warmup" ? 0 : 1)) {
      throw new Error(`--${name} / ${knobs[name].env} must be a positive integer (got "${raw}")`);
    }
    return value;
  };
  return {
    concurrency: read("concurrency"),
    requests: read("requests"),
    warmup: read("warmup"),
    repeats: read("repeats"),
  };
}
