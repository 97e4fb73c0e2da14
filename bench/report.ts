// Turns the runs into one row of medians per bench row, the table, the ratios the issue sets goals for (and those it
// only asks to see), and what bounds the throughput of the rows whose ratios are measured only.
import { execFileSync } from "node:child_process";
import os from "node:os";
import type { HeapPerCall, RowRun } from "./measure-row.js";
import { type Row, describeRow, rows } from "./rows.js";
import { repoRoot } from "./server-process.js";
import { median } from "./stats.js";

export interface RowSummary {
  rowId: string;
  description: string;
  runs: number;
  reqPerSec: number;
  p50Ms: number;
  p99Ms: number;
  fixedRate: number;
  fixedRateP50Ms: number;
  fixedRateP99Ms: number;
  /** A peer's p99 at its verifyd row's fixed rate (Row.sameRateAs), in the repeats where both ran. */
  sameRateP99Ms?: number;
  serverCpuUsPerCall: number;
  /** PostgreSQL's backends, for the rows on PostgreSQL. */
  databaseCpuUsPerCall?: number;
  heapPerCall: HeapPerCall;
  generatorCpuUsPerCall: number;
  /** The generator's CPU time over the saturation phase's wall time: near 100%, the generator, not the server, limits. */
  generatorBusy: number;
  peakRssMiB: number;
  /** Summed over the runs. */
  errors: number;
}

export function environment() {
  const cpus = os.cpus();
  const git = (...args: string[]) => execFileSync("git", args, { cwd: repoRoot, encoding: "utf8" }).trim();
  return {
    date: new Date().toISOString(),
    commit: `${git("rev-parse", "--short", "HEAD")}${git("status", "--porcelain", "--untracked-files=no") ? " with uncommitted changes" : ""}`,
    cpus: cpus.length,
    cpuModel: cpus[0]?.model ?? "unknown",
    node: process.version,
    platform: `${os.platform()} ${os.release()}`,
    // Other work on the machine skews req/s far more than CPU time per call; this says how much there was.
    loadAverage1m: os.loadavg()[0] as number,
  };
}

export function summarize(runs: readonly RowRun[]): RowSummary[] {
  return rows.flatMap((row): RowSummary[] => {
    const own = runs.filter((run) => run.rowId === row.id);
    if (own.length === 0) return [];
    const of = (pick: (run: RowRun) => number) => median(own.map(pick));
    const databaseCpu = own.flatMap((run) => (run.databaseCpuUsPerCall === undefined ? [] : [run.databaseCpuUsPerCall]));
    const sameRateP99 = own.flatMap((run) => (run.sameRate === undefined ? [] : [run.sameRate.p99Ms]));
    return [
      {
        rowId: row.id,
        description: describeRow(row),
        runs: own.length,
        reqPerSec: of((run) => run.saturation.count / run.saturation.seconds),
        p50Ms: of((run) => run.saturation.p50Ms),
        p99Ms: of((run) => run.saturation.p99Ms),
        fixedRate: of((run) => run.fixedRate.rate),
        fixedRateP50Ms: of((run) => run.fixedRate.p50Ms),
        fixedRateP99Ms: of((run) => run.fixedRate.p99Ms),
        ...(sameRateP99.length > 0 ? { sameRateP99Ms: median(sameRateP99) } : {}),
        serverCpuUsPerCall: of((run) => run.serverCpuUsPerCall),
        ...(databaseCpu.length > 0 ? { databaseCpuUsPerCall: median(databaseCpu) } : {}),
        heapPerCall: {
          allocatedKB: of((run) => run.heapPerCall.allocatedKB),
          promotedKB: of((run) => run.heapPerCall.promotedKB),
          gcPauseUs: of((run) => run.heapPerCall.gcPauseUs),
        },
        generatorCpuUsPerCall: of((run) => (run.saturation.cpuSeconds * 1e6) / run.saturation.count),
        generatorBusy: of((run) => run.saturation.cpuSeconds / run.saturation.seconds),
        peakRssMiB: of((run) => run.peakRssMiB),
        errors: own.reduce((sum, run) => sum + run.errors, 0),
      },
    ];
  });
}

export function formatTable(summaries: readonly RowSummary[]): string {
  const header = ["row", "req/s", "p50 ms", "p99 ms", "½ peak req/s", "p50 ms", "p99 ms", "server µs/call", "PG µs/call", "alloc KB/call", "promoted KB/call", "GC pause µs/call", "gen µs/call", "gen CPU", "peak RSS MiB", "errors"];
  const lines = summaries.map((s) => [
    s.description,
    s.reqPerSec.toFixed(0),
    s.p50Ms.toFixed(1),
    s.p99Ms.toFixed(1),
    s.fixedRate.toFixed(0),
    s.fixedRateP50Ms.toFixed(1),
    s.fixedRateP99Ms.toFixed(1),
    s.serverCpuUsPerCall.toFixed(0),
    s.databaseCpuUsPerCall?.toFixed(0) ?? "",
    s.heapPerCall.allocatedKB.toFixed(1),
    s.heapPerCall.promotedKB.toFixed(2),
    s.heapPerCall.gcPauseUs.toFixed(0),
    s.generatorCpuUsPerCall.toFixed(0),
    `${(s.generatorBusy * 100).toFixed(0)}%`,
    s.peakRssMiB.toFixed(0),
    String(s.errors),
  ]);
  return markdownTable(header, lines, 1);
}

export interface Ratio {
  name: string;
  value: number;
  /** "≥ 1.5", "≤ 10 ms", ...; absent for figures the issue only asks to see. */
  goal?: string;
  met?: boolean;
}

class RowNotMeasured extends Error {}

/**
 * The issue's goals, each from figures of this one run, for the rows measured (`--rows` may leave some out). A ratio of
 * two rows is the median of their ratios in each repeat: the two rows of a repeat ran minutes or less apart (most of
 * them one right after the other), on a machine whose speed drifts between repeats, so each repeat's pair is one
 * measurement; the ratio of the two rows' medians could pair one row's fast repeat with the other's slow one.
 */
export function ratios(runs: readonly RowRun[], summaries: readonly RowSummary[], users: number): Ratio[] {
  const get = (id: Row["id"]) => {
    const found = summaries.find((summary) => summary.rowId === id);
    if (!found) throw new RowNotMeasured();
    return found;
  };
  const paired = (id: Row["id"], of: Row["id"], pick: (run: RowRun) => number) => {
    const base = new Map(runs.filter((run) => run.rowId === of).map((run) => [run.repeat, pick(run)]));
    const perRepeat = runs.flatMap((run) => {
      const baseValue = run.rowId === id ? base.get(run.repeat) : undefined;
      return baseValue === undefined ? [] : [pick(run) / baseValue];
    });
    if (perRepeat.length === 0) throw new RowNotMeasured();
    return median(perRepeat);
  };
  const atLeast = (name: string, value: number, goal: number, unit = ""): Ratio => ({ name, value, goal: `≥ ${goal}${unit}`, met: value >= goal });
  const atMost = (name: string, value: number, goal: number, unit = ""): Ratio => ({ name, value, goal: `≤ ${goal}${unit}`, met: value <= goal });
  const throughput = (id: Row["id"], of: Row["id"]) => paired(id, of, (run) => run.saturation.count / run.saturation.seconds);
  const sameRateP99 = (id: Row["id"]) => {
    const value = get(id).sameRateP99Ms;
    if (value === undefined) throw new RowNotMeasured();
    return value;
  };
  const verifydRss = () => {
    const verifydRows = summaries.filter((s) => s.rowId.startsWith("verifyd"));
    if (verifydRows.length === 0) throw new RowNotMeasured();
    return Math.max(...verifydRows.map((s) => s.peakRssMiB));
  };
  const measured = (ratio: () => Ratio): Ratio[] => {
    try {
      return [ratio()];
    } catch (error) {
      if (error instanceof RowNotMeasured) return [];
      throw error;
    }
  };
  return [
    ...measured(() => atLeast("VerifyPhone gRPC: verifyd / grpc-js peer, req/s (1.0 is the floor)", throughput("verifyd-grpc", "grpc-js-peer"), 1.5)),
    ...measured(() => atLeast("VerifyPhone REST: verifyd / Fastify peer, req/s", throughput("verifyd-rest", "fastify-peer"), 1.0)),
    ...measured(() => atLeast("VerifyPhone: Connect / gRPC, req/s", throughput("verifyd-connect", "verifyd-grpc"), 0.9)),
    ...measured(() => ({ name: "VerifyPhone: gRPC-Web / gRPC, req/s", value: throughput("verifyd-grpc-web", "verifyd-grpc") })),
    ...measured(() => atMost("VerifyPhone gRPC: wrong code / success, server CPU per call", paired("verifyd-grpc-wrong", "verifyd-grpc", (run) => run.serverCpuUsPerCall), 1.15)),
    ...measured(() => atMost("VerifyPhone gRPC: p99 at half of verifyd's peak, ms", get("verifyd-grpc").fixedRateP99Ms, 10, " ms")),
    // The same rate's p99 with the peers serving it: what the machine (two cores shared with the load generator) allows.
    ...measured(() => ({ name: "VerifyPhone gRPC: the grpc-js peer's p99 at that rate, ms", value: sameRateP99("grpc-js-peer") })),
    ...measured(() => ({ name: "VerifyPhone REST: p99 at half of verifyd's peak, ms", value: get("verifyd-rest").fixedRateP99Ms })),
    ...measured(() => ({ name: "VerifyPhone REST: the Fastify peer's p99 at that rate, ms", value: sameRateP99("fastify-peer") })),
    ...measured(() => atLeast("AddHumanUser+send_code gRPC: verifyd / grpc-js peer, req/s", throughput("verifyd-grpc-add", "grpc-js-peer-add"), 1.0)),
    ...measured(() => atLeast("AddHumanUser+send_code REST: verifyd / Fastify peer, req/s", throughput("verifyd-rest-add", "fastify-peer-add"), 1.0)),
    ...measured(() => atMost(`verifyd's peak RSS, MiB, highest of its rows, ${users.toLocaleString("en")} users`, verifydRss(), 150, " MiB")),
    // What a second process on the same SQLite file buys, on cores the load generator shares (README, "How the figures scale").
    ...measured(() => ({ name: "VerifyPhone gRPC: SQLite ×2 / ×1, req/s", value: throughput("verifyd-x2-grpc", "verifyd-grpc") })),
    ...measured(() => ({ name: "VerifyPhone REST: SQLite ×2 / ×1, req/s", value: throughput("verifyd-x2-rest", "verifyd-rest") })),
    // PostgreSQL has no goal beyond not slowing SQLite down: these say what it costs, and what a second process buys.
    ...measured(() => ({ name: "VerifyPhone gRPC: PostgreSQL / SQLite, req/s", value: throughput("verifyd-postgres-grpc", "verifyd-grpc") })),
    ...measured(() => ({ name: "VerifyPhone REST: PostgreSQL / SQLite, req/s", value: throughput("verifyd-postgres-rest", "verifyd-rest") })),
    ...measured(() => ({ name: "VerifyPhone gRPC: PostgreSQL ×2 / ×1, req/s", value: throughput("verifyd-postgres-x2-grpc", "verifyd-postgres-grpc") })),
    ...measured(() => ({ name: "VerifyPhone REST: PostgreSQL ×2 / ×1, req/s", value: throughput("verifyd-postgres-x2-rest", "verifyd-postgres-rest") })),
    ...measured(() => ({ name: "VerifyPhone gRPC: PostgreSQL ×2 / SQLite, req/s", value: throughput("verifyd-postgres-x2-grpc", "verifyd-grpc") })),
    ...measured(() => ({ name: "VerifyPhone REST: PostgreSQL ×2 / SQLite, req/s", value: throughput("verifyd-postgres-x2-rest", "verifyd-rest") })),
  ];
}

/** One process on SQLite: what the rows of two processes and of PostgreSQL are compared with. */
const comparedRows = ["verifyd-grpc", "verifyd-rest"];
/** The rows whose ratios have no goal but need a reason, and the rows they are compared with. */
const boundedRows = [
  ...comparedRows,
  ...["verifyd-x2-grpc", "verifyd-x2-rest", "verifyd-postgres-grpc", "verifyd-postgres-rest", "verifyd-postgres-x2-grpc", "verifyd-postgres-x2-rest"],
];

/**
 * What bounds each of those rows: all the CPU a call costs on this machine (the servers', PostgreSQL's backends', the
 * load generator's) against the cores they share. Near 100%, the cores bound the row, and a second process can only
 * add its own overhead; well below, the row waits on something else (commits flushed to disk, the connection pool,
 * or other work on the machine, which the load average shows). Empty when only the compared rows were measured.
 */
export function bounds(summaries: readonly RowSummary[], cores: number): string[] {
  if (!summaries.some((s) => boundedRows.includes(s.rowId) && !comparedRows.includes(s.rowId))) return [];
  const bounded = summaries.filter((s) => boundedRows.includes(s.rowId));
  const lines = bounded.map((s) => {
    const database = s.databaseCpuUsPerCall ?? 0;
    const total = s.serverCpuUsPerCall + database + s.generatorCpuUsPerCall;
    const ceiling = (cores * 1e6) / total;
    const postgres = s.databaseCpuUsPerCall === undefined ? "" : ` + ${database.toFixed(0)} PostgreSQL`;
    const parts = `${s.serverCpuUsPerCall.toFixed(0)} verifyd${postgres} + ${s.generatorCpuUsPerCall.toFixed(0)} generator`;
    return (
      `- ${s.description}: ${parts} = ${total.toFixed(0)} µs of CPU per call; ${cores} cores allow ${ceiling.toFixed(0)} req/s, ` +
      `measured ${s.reqPerSec.toFixed(0)} (${((s.reqPerSec / ceiling) * 100).toFixed(0)}%)`
    );
  });
  const postgres = bounded.some((s) => s.databaseCpuUsPerCall !== undefined);
  return [
    `What bounds them: one machine's ${cores} cores run the servers${postgres ? ", PostgreSQL" : ""} and the load generator, so each call's CPU`,
    postgres ? "(PostgreSQL's: its backends serving the bench's database, from /proc; not the WAL writer) caps the throughput:" : "caps the throughput:",
    ...lines,
    "Near 100%, the cores bound the row and a second process only adds its own overhead; well below, calls wait",
    postgres
      ? "(PostgreSQL's commit flushes, a pool of 10 connections per process, other work on the machine: see the load average)."
      : "(SQLite's commits, other work on the machine: see the load average).",
  ];
}

export function formatRatios(list: readonly Ratio[]): string {
  const lines = list.map((ratio) => [
    ratio.name,
    ratio.value.toFixed(ratio.value >= 10 ? 0 : 2),
    ratio.goal ?? "(measured)",
    ratio.met === undefined ? "" : ratio.met ? "met" : "NOT MET",
  ]);
  return markdownTable(["ratio", "value", "goal", ""], lines, 1);
}

/** A Markdown table whose columns line up in a terminal too; columns from `firstFigure` on are right-aligned. */
function markdownTable(header: string[], lines: string[][], firstFigure: number): string {
  const widths = header.map((_, column) => Math.max(...[header, ...lines].map((cells) => [...(cells[column] as string)].length)));
  const pad = (cell: string, column: number) => {
    const room = " ".repeat((widths[column] as number) - [...cell].length);
    return column < firstFigure ? cell + room : room + cell;
  };
  const format = (cells: string[]) => `| ${cells.map(pad).join(" | ")} |`;
  const rule = `|${widths.map((width, column) => (column < firstFigure ? `${"-".repeat(width + 2)}` : `${"-".repeat(width + 1)}:`)).join("|")}|`;
  return [format(header), rule, ...lines.map(format)].join("\n");
}
