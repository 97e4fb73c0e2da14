// Connections the server closes at once for a limit on connections reach a proxy in front as a 502 with no reason:
// a trial behind nginx found neither a log line nor a metric saying that verifyd had refused them, or for which limit.
import net from "node:net";
import { join } from "node:path";
import { Registry } from "prom-client";
import { afterEach, describe, expect, it, vi } from "vitest";
import { createConnectionRefusalMetrics, reportRefusedConnections } from "../../src/metrics/connection-metrics.js";
import { serverProcessDirectories, startServerProcess } from "../helpers/server-process.js";
import { counterByLabel } from "../helpers/scraped-counter.js";

/** A connection that sends nothing, so that it holds its slot until the test lets go of it. */
async function hold(port: number, localAddress: string): Promise<net.Socket> {
  const socket = net.connect({ host: "127.0.0.1", port, localAddress });
  socket.on("error", () => {}); // a reset is one of the ways the server may hang up
  await new Promise((resolve) => socket.once("connect", resolve));
  return socket;
}

/** Connects, and resolves once the server has hung up without a byte. */
async function refused(port: number, localAddress: string): Promise<string> {
  const socket = await hold(port, localAddress);
  let received = "";
  socket.setEncoding("latin1");
  socket.on("data", (chunk: string) => (received += chunk));
  await new Promise((resolve) => socket.once("close", resolve));
  return received;
}

describe("connections refused for a limit on connections", () => {
  const tempDirectory = serverProcessDirectories("verifyd-refused-");

  it("are counted by reason in verifyd_connections_refused_total, and warned of once a minute without addresses", async () => {
    const server = await startServerProcess(join(tempDirectory(), "verifyd.sqlite"), {
      args: ["--max-connections", "4", "--max-connections-per-client", "2", "--first-bytes-timeout", "30s", "--metrics-port", "0"],
    });
    const listening = JSON.parse(server.stderr.find((line) => line.includes("verifyd listening")) ?? "{}") as { metrics: string };
    const port = Number(new URL(server.url).port);
    const held: net.Socket[] = [];
    try {
      held.push(await hold(port, "127.0.0.1"), await hold(port, "127.0.0.1"));
      expect(await refused(port, "127.0.0.1")).toBe("");
      expect(await refused(port, "127.0.0.1")).toBe("");
      held.push(await hold(port, "127.0.0.2"), await hold(port, "127.0.0.2"));
      expect(await refused(port, "127.0.0.3")).toBe("");
      expect(await refused(port, "127.0.0.3")).toBe("");
      expect(await refused(port, "127.0.0.3")).toBe("");

      expect(await counterByLabel(listening.metrics, "verifyd_connections_refused_total", "reason")).toEqual({ per_client: 2, max_connections: 3 });
      const warnings = server.stderr.filter((line) => line.includes("connections refused"));
      // The first of each at once; the rest of the minute's are told in the next line, a minute on.
      expect(warnings.map((line) => JSON.parse(line) as Record<string, unknown>)).toEqual([
        expect.objectContaining({ level: "warn", reason: "per_client", count: 1, setting: "--max-connections-per-client" }),
        expect.objectContaining({ level: "warn", reason: "max_connections", count: 1, setting: "--max-connections" }),
      ]);
      expect(warnings.join("\n")).not.toContain("127.0.0");
    } finally {
      held.forEach((socket) => socket.destroy());
    }
    await server.stop();
  }, 30_000);
});

// A minute is too long to wait for against a process: the same reporter, on a clock the test moves.
describe("the warnings of a flood of refusals", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it("come once a minute per limit, each with the count since the last, and stop with the refusals", async () => {
    vi.useFakeTimers();
    const lines: Record<string, unknown>[] = [];
    const registry = new Registry();
    const refuse = reportRefusedConnections(createConnectionRefusalMetrics(registry), { warn: (_message, fields = {}) => lines.push(fields) });
    for (let i = 0; i < 5; i++) refuse("per_client");
    refuse("max_connections");
    expect(lines).toEqual([
      { reason: "per_client", count: 1, setting: "--max-connections-per-client" },
      { reason: "max_connections", count: 1, setting: "--max-connections" },
    ]);
    vi.advanceTimersByTime(60_000);
    expect(lines.slice(2)).toEqual([{ reason: "per_client", count: 4, setting: "--max-connections-per-client" }]);
    refuse("per_client");
    vi.advanceTimersByTime(60_000);
    expect(lines.slice(3)).toEqual([{ reason: "per_client", count: 1, setting: "--max-connections-per-client" }]);
    vi.advanceTimersByTime(10 * 60_000);
    expect(lines).toHaveLength(4);
    // A refusal after a quiet minute is told at once again.
    refuse("max_connections");
    expect(lines.slice(4)).toEqual([{ reason: "max_connections", count: 1, setting: "--max-connections" }]);
    expect(await registry.getSingleMetricAsString("verifyd_connections_refused_total")).toContain('verifyd_connections_refused_total{reason="per_client"} 6');
  });
});
