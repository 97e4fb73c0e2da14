// The bench's ratios (bench/report.ts): two rows are compared within each repeat, where they met the same machine.
import { describe, expect, it } from "vitest";
import type { RowRun } from "../../bench/measure-row.js";
import { ratios, summarize } from "../../bench/report.js";

function run(rowId: string, repeat: number, reqPerSec: number, serverCpuUsPerCall: number): RowRun {
  const phase = { count: reqPerSec * 10, seconds: 10, p50Ms: 1, p99Ms: 2, outcomes: {}, cpuSeconds: 1 };
  return { rowId, repeat, saturation: phase, fixedRate: { ...phase, rate: reqPerSec / 2 }, serverCpuUsPerCall, heapPerCall: { allocatedKB: 60, promotedKB: 4, gcPauseUs: 30 }, peakRssMiB: 100, errors: 0, unexpected: {} };
}

function ratioNamed(runs: RowRun[], prefix: string): number | undefined {
  return ratios(runs, summarize(runs), 1000).find((ratio) => ratio.name.startsWith(prefix))?.value;
}

describe("the bench's ratios", () => {
  // The machine ran at full speed in the first repeat and at half in the second: in each, verifyd did 0.5 of the peer.
  const runs = [
    run("verifyd-grpc", 1, 2000, 300),
    run("grpc-js-peer", 1, 4000, 150),
    run("verifyd-grpc-wrong", 1, 1700, 330),
    run("verifyd-grpc", 2, 1000, 600),
    run("grpc-js-peer", 2, 2000, 300),
    run("verifyd-grpc-wrong", 2, 850, 660),
    run("verifyd-grpc", 3, 1500, 400),
    run("grpc-js-peer", 3, 3000, 200),
    run("verifyd-grpc-wrong", 3, 1300, 440),
  ];

  it("compares two rows within each repeat and takes the median, whatever the machine's speed did between repeats", () => {
    expect(ratioNamed(runs, "VerifyPhone gRPC: verifyd / grpc-js peer")).toBeCloseTo(0.5);
    expect(ratioNamed(runs, "VerifyPhone gRPC: wrong code / success")).toBeCloseTo(1.1);
  });

  it("does not set one row's fast repeat against the other's slow one", () => {
    // The peer's median repeat is 3,000 req/s; verifyd's, with its third repeat fast, 2,000: the ratio of medians would say 0.67.
    const fastThird = runs.map((each) => (each.rowId === "verifyd-grpc" && each.repeat === 3 ? run("verifyd-grpc", 3, 2500, 400) : each));
    expect(ratioNamed(fastThird, "VerifyPhone gRPC: verifyd / grpc-js peer")).toBeCloseTo(0.5);
  });

  it("leaves out the ratios of rows that were not measured", () => {
    expect(ratioNamed(runs, "VerifyPhone REST")).toBeUndefined();
    expect(ratioNamed(runs, "VerifyPhone gRPC: the grpc-js peer's p99 at that rate")).toBeUndefined();
  });

  it("shows the peer's p99 at verifyd's fixed rate beside verifyd's own, the median of the repeats that held it", () => {
    const atVerifydsRate = (each: RowRun, p99Ms: number): RowRun => ({ ...each, sameRate: { ...each.fixedRate, rate: 750, p99Ms } });
    const withPeerAtSameRate = runs.map((each) => (each.rowId === "grpc-js-peer" ? atVerifydsRate(each, 4 * each.repeat) : each));
    expect(ratioNamed(withPeerAtSameRate, "VerifyPhone gRPC: p99 at half of verifyd's peak")).toBe(2);
    expect(ratioNamed(withPeerAtSameRate, "VerifyPhone gRPC: the grpc-js peer's p99 at that rate")).toBe(8);
  });
});
