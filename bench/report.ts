// Turns the runs into one row per configuration (medians across repeats) and prints them as a table.
import os from "node:os";
import type { RunConfig, RunResult } from "./run-once.js";
import { median } from "./stats.js";
import { describeProtocol } from "./verify-clients.js";

export interface SummaryRow extends RunConfig {
  runs: number;
  reqPerSec: number;
  p50Ms: number;
  p99Ms: number;
  /** Summed over the repeats: any error in any run shows. */
  errors: number;
  peakRssMiB: number;
  serverCpuUsPerRequest: number;
  clientCpuUsPerRequest: number;
  /** verifyd's req/s over the same protocol's req/s against the canned server; 1 for the ceilings themselves. */
  ofCeiling: number;
}

export function environment() {
  const cpus = os.cpus();
  return {
    cpus: cpus.length,
    cpuModel: cpus[0]?.model ?? "unknown",
    node: process.version,
    platform: `${os.platform()} ${os.release()}`,
    // Other work on the machine skews req/s far more than it skews CPU time per request; this says how much there was.
    loadAverage1m: os.loadavg()[0] as number,
  };
}

export function summarize(results: readonly RunResult[]): SummaryRow[] {
  const groups = new Map<string, RunResult[]>();
  for (const result of results) {
    const key = `${result.target}|${result.protocol}|${result.workload}`;
    groups.set(key, [...(groups.get(key) ?? []), result]);
  }
  const rows = [...groups.values()].map((runs): Omit<SummaryRow, "ofCeiling"> => {
    const of = (pick: (run: RunResult) => number) => median(runs.map(pick));
    const { target, protocol, workload } = runs[0] as RunResult;
    return {
      target,
      protocol,
      workload,
      runs: runs.length,
      reqPerSec: of((run) => run.reqPerSec),
      p50Ms: of((run) => run.p50Ms),
      p99Ms: of((run) => run.p99Ms),
      errors: runs.reduce((sum, run) => sum + run.errors, 0),
      peakRssMiB: of((run) => run.peakRssMiB),
      serverCpuUsPerRequest: of((run) => run.serverCpuUsPerRequest),
      clientCpuUsPerRequest: of((run) => run.clientCpuUsPerRequest),
    };
  });
  return rows.map((row) => {
    const ceiling = rows.find((other) => other.workload === "ceiling" && other.protocol === row.protocol);
    return { ...row, ofCeiling: ceiling ? row.reqPerSec / ceiling.reqPerSec : Number.NaN };
  });
}

export function formatTable(rows: readonly SummaryRow[]): string {
  const header = ["run", "protocol", "workload", "req/s", "p50 ms", "p99 ms", "errors", "peak RSS MiB"];
  header.push("srv CPU µs/req", "cli CPU µs/req", "vs ceiling");
  const lines = rows.map((row) => [
    row.target,
    describeProtocol[row.protocol],
    row.workload,
    row.reqPerSec.toFixed(0),
    row.p50Ms.toFixed(2),
    row.p99Ms.toFixed(2),
    String(row.errors),
    row.peakRssMiB.toFixed(1),
    row.serverCpuUsPerRequest.toFixed(0),
    row.clientCpuUsPerRequest.toFixed(0),
    `${row.ofCeiling.toFixed(2)} of ceiling`,
  ]);
  const widthOf = (column: number) => Math.max(...[header, ...lines].map((cells) => (cells[column] as string).length));
  const widths = header.map((_, column) => widthOf(column));
  const format = (cells: string[]) =>
    cells
      .map((cell, column) => {
        const width = widths[column] as number;
        // Text columns left-aligned, figures right-aligned.
        return column < 3 ? cell.padEnd(width) : cell.padStart(width);
      })
      .join("  ");
  return [format(header), widths.map((width) => "-".repeat(width)).join("  "), ...lines.map(format)].join("\n");
}
