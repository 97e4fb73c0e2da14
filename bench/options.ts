// The bench's knobs: `--quick` (what the README shows first, under two minutes: the goals only) or the full
// run, and flags that override either, e.g. `npm run bench -- --quick --repeats 3`.
import { parseArgs } from "node:util";
import { isPostgresUrl } from "../src/store/database-url.js";
import { databaseOf, processesOf, rows } from "./rows.js";
import type { Workload } from "./load/load-job.js";

export interface BenchOptions {
  quick: boolean;
  /** Users seeded into each database (verifyd's SQLite and PostgreSQL, the peers'), with their codes pending. */
  users: number;
  /** Untimed calls on each fresh server process first, so that the JIT has settled... */
  warmupCalls: number;
  /** ...or as many as it makes in this time, whichever is less. */
  warmupSeconds: number;
  /** Length of each saturation phase. */
  saturationSeconds: number;
  /** Length of each fixed-rate phase, at half the saturation throughput just measured. */
  fixedRateSeconds: number;
  /** Runs of every row; the table shows the medians. */
  repeats: number;
  /** `--profile`: profile one row's server instead of the table (profile.ts): `--rows`' one row, or verifyd-grpc. */
  profile: boolean;
  /** `--rows verifyd-grpc,grpc-js-peer`: only these rows (ids in rows.ts), and only the ratios they make; all by default. */
  rows?: string[];
  /** `--postgres URL`: the database the PostgreSQL rows run on, dropped and created anew at every run. */
  postgres: string;
  /** `--compare-commit=<ref>`, repeatable: compare this tree's verifyd with that commit's instead (compare.ts). */
  compareCommits: string[];
  /** `--compare-flags=<node flags>`, repeatable: compare this tree's verifyd with itself started with these flags. */
  compareFlags: string[];
  /** `--compare-workload=wrong-code`: compare this tree's verifyd with itself answering that workload's calls. */
  compareWorkloads: Workload[];
  /** `--compare-protocol=rest`: a comparison's calls over REST, beside the Fastify peer; gRPC beside the grpc-js peer by default. */
  compareProtocol: ComparedProtocol;
  /** Interleaved bursts of each contender in a comparison, each as long as a saturation phase. */
  rounds: number;
}

/** A database of its own on the local server (trust authentication), so that replacing it harms nothing else. */
const defaultPostgres = "postgres://postgres@127.0.0.1:5432/verifyd_bench";

// Measured phases last a fixed time, not a number of calls, so that a slow row cannot stretch the quick run beyond
// three minutes. The warm-up counts calls, since that is what the JIT needs: verifyd's CPU per call still falls by
// half over its first 3,000 calls, and a warm-up of a fixed time would leave a slow server the least warm.
const presets = {
  quick: { users: 60_000, warmupCalls: 3000, warmupSeconds: 5, saturationSeconds: 2, fixedRateSeconds: 1.5, repeats: 1, rounds: 10 },
  full: { users: 1_000_000, warmupCalls: 10_000, warmupSeconds: 20, saturationSeconds: 10, fixedRateSeconds: 5, repeats: 3, rounds: 10 },
} as const;

const numeric = {
  users: "users",
  warmupCalls: "warmup-calls",
  warmupSeconds: "warmup-seconds",
  saturationSeconds: "saturation-seconds",
  fixedRateSeconds: "fixed-rate-seconds",
  repeats: "repeats",
  rounds: "rounds",
} as const;

export function readBenchOptions(argv: readonly string[]): BenchOptions {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      quick: { type: "boolean" },
      profile: { type: "boolean" },
      rows: { type: "string" },
      postgres: { type: "string" },
      "compare-commit": { type: "string", multiple: true },
      "compare-flags": { type: "string", multiple: true },
      "compare-workload": { type: "string", multiple: true },
      "compare-protocol": { type: "string" },
      ...(Object.fromEntries(Object.values(numeric).map((flag) => [flag, { type: "string" }])) as Record<(typeof numeric)[keyof typeof numeric], { type: "string" }>),
    },
    strict: true,
  });
  const quick = values.quick ?? false;
  const preset = quick ? presets.quick : presets.full;
  const read = (name: keyof typeof numeric): number => {
    const raw = values[numeric[name]];
    if (raw === undefined) return preset[name];
    const value = Number(raw);
    const counted = name === "users" || name === "repeats" || name === "rounds" || name === "warmupCalls";
    const valid = counted ? Number.isInteger(value) && value >= (name === "warmupCalls" ? 0 : 1) : value >= (name === "warmupSeconds" ? 0 : 0.1);
    if (!valid) throw new Error(`--${numeric[name]} must be ${counted ? "a whole number" : "a number of seconds"} (got "${raw}")`);
    return value;
  };
  const rowIds = values.rows?.split(",").map((id) => id.trim());
  const unknown = rowIds?.filter((id) => !rows.some((row) => row.id === id));
  if (unknown && unknown.length > 0) throw new Error(`--rows: no row ${unknown.join(", ")} (rows: ${rows.map((row) => row.id).join(", ")})`);
  const profile = values.profile ?? false;
  if (profile && rowIds && !(rowIds.length === 1 && profilable(rowIds[0] as string))) {
    throw new Error(`--profile takes one row of one server process on SQLite in --rows (got "${values.rows}")`);
  }
  // Given twice, it would only start a second, identical contender.
  const compareWorkloads = [...new Set(values["compare-workload"] ?? [])].map((workload): Workload => {
    if (workload !== "wrong-code") throw new Error(`--compare-workload must be wrong-code, which is compared with the success (got "${workload}")`);
    return workload;
  });
  const compareProtocol = values["compare-protocol"] ?? "grpc";
  if (!isComparedProtocol(compareProtocol)) throw new Error(`--compare-protocol must be grpc or rest (got "${compareProtocol}")`);
  const postgres = values.postgres ?? defaultPostgres;
  if (!isPostgresUrl(postgres)) throw new Error(`--postgres must be a postgres:// URL (got "${postgres}")`);
  return {
    quick,
    profile,
    ...(rowIds ? { rows: rowIds } : {}),
    postgres,
    users: read("users"),
    warmupCalls: read("warmupCalls"),
    warmupSeconds: read("warmupSeconds"),
    saturationSeconds: read("saturationSeconds"),
    fixedRateSeconds: read("fixedRateSeconds"),
    repeats: read("repeats"),
    compareCommits: values["compare-commit"] ?? [],
    compareFlags: values["compare-flags"] ?? [],
    compareWorkloads,
    compareProtocol,
    rounds: read("rounds"),
  };
}

/** The protocols a comparison runs over, each beside the peer the issue measures verifyd against on it. */
export type ComparedProtocol = "grpc" | "rest";

function isComparedProtocol(value: string): value is ComparedProtocol {
  return value === "grpc" || value === "rest";
}

/** Whether `--profile` can run the row: one server process (verifyd or a peer), on a SQLite file. */
function profilable(rowId: string): boolean {
  const row = rows.find((candidate) => candidate.id === rowId);
  return row !== undefined && processesOf[row.target] === 1 && databaseOf[row.target] !== "verifyd's PostgreSQL";
}
