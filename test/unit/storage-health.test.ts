// The storage-health tracker: storage failures become Unavailable, an episode logs once when it starts and once when
// a probe write shows writes work again, and probes are rate-limited.
import { SqliteError } from "better-sqlite3";
import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { DomainError } from "../../src/domain/errors.js";
import { createLogger } from "../../src/logger.js";
import { createStorageHealth } from "../../src/store/storage-health.js";

function tracker() {
  const lines: { level: string; message: string }[] = [];
  let diskFull = false;
  let clock = 0;
  let probes = 0;
  const full = () => {
    if (diskFull) throw new SqliteError("database or disk is full", "SQLITE_FULL");
  };
  const health = createStorageHealth({
    logger: createLogger("info", (line) => lines.push(JSON.parse(line) as { level: string; message: string })),
    probeRead: () => undefined,
    probeWrite: () => {
      probes++;
      full();
    },
    probeIntervalMs: 1000,
    now: () => clock,
  });
  return {
    health,
    lines,
    full,
    probes: () => probes,
    setDiskFull: (value: boolean) => (diskFull = value),
    advance: (ms: number) => (clock += ms),
  };
}

describe("storage health", () => {
  it("turns storage failures into Unavailable, logging one line per episode, and reports unhealthy", () => {
    const { health, lines, full, setDiskFull } = tracker();
    setDiskFull(true);
    for (let i = 0; i < 5; i++) {
      expect(() => health.write(full)).toThrow(expect.objectContaining({ kind: "Unavailable", reason: "STORAGE_UNAVAILABLE" }));
    }
    expect(() => health.use(full)).toThrow(DomainError);
    expect(health.isHealthy()).toBe(false);
    expect(lines).toEqual([expect.objectContaining({ level: "error" })]);
  });

  it("lets other errors through unchanged and does not start an episode for them", () => {
    const { health, lines } = tracker();
    const bug = new SqliteError("no such column: x", "SQLITE_ERROR");
    expect(() =>
      health.use(() => {
        throw bug;
      }),
    ).toThrow(bug);
    expect(health.isHealthy()).toBe(true);
    expect(lines).toEqual([]);
  });

  it("probes at most once per interval while failing, and recovers by itself with one info line", () => {
    const { health, lines, full, probes, setDiskFull, advance } = tracker();
    setDiskFull(true);
    expect(() => health.write(full)).toThrow(DomainError);
    expect(health.isHealthy()).toBe(false);
    expect(health.isHealthy()).toBe(false);
    expect(probes()).toBe(1);

    setDiskFull(false);
    // A small write that succeeds does not end the episode before the probe, which is not due yet.
    health.write(() => undefined);
    expect(health.isHealthy()).toBe(false);
    advance(1000);
    expect(health.isHealthy()).toBe(true);
    expect(probes()).toBe(2);
    expect(lines.map((line) => line.level)).toEqual(["error", "info"]);
    expect(lines[1]?.message).toBe("storage writes work again");
  });

  it("probes by itself while failing, so that it recovers with nobody asking", async () => {
    const lines: { level: string; message: string }[] = [];
    let diskFull = true;
    const full = () => {
      if (diskFull) throw new SqliteError("database or disk is full", "SQLITE_FULL");
    };
    const health = createStorageHealth({
      logger: createLogger("info", (line) => lines.push(JSON.parse(line) as { level: string; message: string })),
      probeRead: () => undefined,
      probeWrite: full,
      probeIntervalMs: 20,
    });
    expect(() => health.write(full)).toThrow(DomainError);
    diskFull = false;
    await sleep(100);
    expect(lines.map((line) => line.message)).toEqual(["storage failing: calls answer Unavailable until writes work again", "storage writes work again"]);
    expect(health.isHealthy()).toBe(true);
  });

  it("answers a busy database's failure with STORAGE_BUSY and starts no episode, but a probe that fails so starts one", () => {
    const { health, lines } = tracker();
    const busy = () => {
      throw new SqliteError("database is locked", "SQLITE_BUSY");
    };
    for (let i = 0; i < 3; i++) expect(() => health.write(busy)).toThrow(expect.objectContaining({ kind: "Unavailable", reason: "STORAGE_BUSY", retryAfterMs: 1000 }));
    expect(health.isHealthy()).toBe(true);
    // One warning for the three, not an error: calls that need no lock go on working.
    expect(lines).toEqual([expect.objectContaining({ level: "warn", code: "SQLITE_BUSY", count: 1 })]);

    const locked = createStorageHealth({ logger: createLogger("silent"), probeRead: busy, probeWrite: busy });
    expect(locked.isHealthy()).toBe(false);
  });
});
