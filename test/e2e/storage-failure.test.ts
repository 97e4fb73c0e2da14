// The database's storage failing under a running server (a full disk) and a damaged file at start: callers get
// Unavailable, probes see NOT_SERVING (and /readyz 503), the log has one line per episode, and nothing stored is lost.
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { closeSync, openSync, statSync, writeSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { describe, expect, it } from "vitest";
import { Health, HealthCheckResponse_ServingStatus as Status } from "../../src/gen/grpc/health/v1/health_pb.js";
import { type ProtocolClient, expectOk, protocolClient } from "../helpers/protocol-clients.js";
import { runServerProcessToExit, serverProcessDirectories, startServerProcess } from "../helpers/server-process.js";
import { openLiveDatabase } from "../helpers/live-database.js";

const tempDirectory = serverProcessDirectories("verifyd-storage-");
const tempDatabase = () => join(tempDirectory(), "verifyd.sqlite");

const addUser = (client: ProtocolClient, i: number) =>
  client.call("addHumanUser", {
    profile: { givenName: "Ada", familyName: `Lovelace ${i}` },
    email: { email: `ada${i}@example.com`, returnCode: {} },
  });

const healthOf = async (url: string) => (await createClient(Health, createGrpcTransport({ baseUrl: url })).check({})).status;

const errorLines = (stderr: string[]) => stderr.filter((line) => line.includes('"level":"error"'));

describe("a full disk", () => {
  it("answers Unavailable, reports NOT_SERVING, logs the episode once, keeps what is stored, and recovers", async () => {
    const database = tempDatabase();
    const server = await startServerProcess(database, { ignoreFileSizeSignal: true });
    const client = protocolClient("connect-json", server.url, server.adminToken);
    const stored = [];
    for (let i = 0; i < 5; i++) stored.push(expectOk(await addUser(client, i)).userId as string);

    // The disk is full from now on: no file of the server may grow beyond 128 KiB past its current size.
    const largest = Math.max(statSync(database).size, statSync(`${database}-wal`).size);
    execFileSync("prlimit", ["--pid", String(server.child.pid), `--fsize=${largest + 128 * 1024}:unlimited`]);
    let failure;
    for (let i = 5; i < 1000 && !failure; i++) {
      const result = await addUser(client, i);
      if (result.ok) stored.push(result.body.userId as string);
      else failure = result;
    }
    expect(failure).toMatchObject({ code: 14, errorInfo: { reason: "STORAGE_UNAVAILABLE" } });
    expect(await addUser(protocolClient("grpc", server.url, server.adminToken), 2000)).toMatchObject({ ok: false, code: 14 });
    expect(await addUser(protocolClient("rest", server.url, server.adminToken), 2001)).toMatchObject({ ok: false, httpStatus: 503 });

    expect(await healthOf(server.url)).toBe(Status.NOT_SERVING);
    expect((await fetch(`${server.url}/readyz`)).status).toBe(503);
    for (const userId of stored) expectOk(await client.call("getUserByID", { userId }));
    expect(errorLines(server.stderr), server.stderr.join("\n")).toHaveLength(1);
    expect(server.stderr.join("\n")).not.toMatch(/^\s+at /m);

    // Room again: the next probe finds writes working and the server serves by itself.
    execFileSync("prlimit", ["--pid", String(server.child.pid), "--fsize=unlimited:unlimited"]);
    let status = await healthOf(server.url);
    for (let tries = 0; status !== Status.SERVING && tries < 100; tries++) {
      await sleep(100);
      status = await healthOf(server.url);
    }
    expect(status).toBe(Status.SERVING);
    expectOk(await addUser(client, 3000));
    expect(server.stderr.filter((line) => line.includes("storage writes work again"))).toHaveLength(1);
    expect(errorLines(server.stderr)).toHaveLength(1);
    await server.stop();
  });
});

describe("a start on a full disk", () => {
  it("is not ready until writes work: a start that writes nothing still tries one", async () => {
    const database = tempDatabase();
    const first = await startServerProcess(database);
    await first.stop();
    // No file of the new server may grow beyond 40 KiB: room for SQLite's shared-memory index (32 KiB), not for the
    // -wal file to take one probe write (64 KiB).
    const fullDisk = ["prlimit", `--fsize=${40 * 1024}`, process.execPath, "--import", import.meta.resolve("tsx"), "src/main.ts"];
    const server = await startServerProcess(database, { command: fullDisk, ignoreFileSizeSignal: true });
    expect((await fetch(`${server.url}/readyz`)).status).toBe(503);
    expect(await healthOf(server.url)).toBe(Status.NOT_SERVING);
    expect(errorLines(server.stderr).join("\n")).toContain("storage failing");
    await server.stop();
  });
});

describe("a damaged database file", () => {
  it("is refused at start with one line naming it, and starts with --skip-integrity-check", async () => {
    const database = tempDatabase();
    const first = await startServerProcess(database);
    const client = protocolClient("rest", first.url, first.adminToken);
    const userIds: string[] = [];
    for (let batch = 0; batch < 10; batch++) {
      const added = await Promise.all(Array.from({ length: 30 }, (_, i) => addUser(client, batch * 30 + i)));
      userIds.push(...added.map((result) => expectOk(result).userId as string));
    }
    await first.stop();

    // Random bytes over pages in the upper half of the file, where users and events live, past the schema's roots.
    const pageSize = 4096;
    const pages = statSync(database).size / pageSize;
    const firstDamaged = Math.floor(pages / 2);
    const inspect = openLiveDatabase(database, { readonly: true });
    const roots = inspect.prepare("SELECT max(rootpage) AS last FROM sqlite_master").get() as { last: number };
    inspect.close();
    expect(roots.last).toBeLessThan(firstDamaged);
    const file = openSync(database, "r+");
    for (let page = firstDamaged; page < Math.min(pages - 1, firstDamaged + 50); page++) {
      writeSync(file, randomBytes(pageSize), 0, pageSize, page * pageSize);
    }
    closeSync(file);

    const exit = await runServerProcessToExit(database, [], { timeoutMs: 20_000 });
    const stderr = exit.stderr.join("\n");
    expect(exit.code, stderr).toBe(2);
    expect(stderr).not.toMatch(/^\s+at /m);
    const plain = exit.stderr.filter((line) => !line.startsWith("{"));
    expect(plain, stderr).toHaveLength(1);
    expect(plain[0]).toContain(database);
    expect(plain[0]).toMatch(/backup/);

    // Skipping the check serves what is readable; what is not is Unavailable, never an internal error.
    const damaged = await startServerProcess(database, { args: ["--skip-integrity-check"] });
    const reader = protocolClient("connect-json", damaged.url, damaged.adminToken);
    for (const userId of userIds) {
      const result = await reader.call("getUserByID", { userId });
      if (!result.ok) expect(result.code).toBe(14);
    }
    await damaged.stop();
  }, 60_000);
});
