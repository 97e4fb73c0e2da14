// A running server's database files losing their names: its data directory deleted, its -wal file deleted, the file
// moved away. The server still holds them open, and used to answer 200 and READY while every write went into files no
// name led to, all lost at the next restart (a storage-fault trial lost 25 users so). Now it notices within a second,
// refuses every call with Unavailable, reports NOT_READY, says what happened, and keeps what it had written in the
// database file where that file still is.
import { renameSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { type ProtocolClient, expectOk, protocolClient } from "../helpers/protocol-clients.js";
import { type ServerProcess, serverProcessDirectories, startServerProcess } from "../helpers/server-process.js";

const tempDirectory = serverProcessDirectories("verifyd-lost-files-");

const addUser = (client: ProtocolClient, i: number) =>
  client.call("addHumanUser", { profile: { givenName: "Ada", familyName: `Lovelace ${i}` }, email: { email: `ada${i}@example.com`, returnCode: {} } });

async function addUsers(client: ProtocolClient, count: number, from = 0): Promise<string[]> {
  const ids = [];
  for (let i = from; i < from + count; i++) ids.push(expectOk(await addUser(client, i)).userId as string);
  return ids;
}

/** Waits for /readyz to say the server is not ready, for at most 5 s; the watch looks once a second. */
async function notReady(server: ServerProcess): Promise<unknown> {
  for (let tries = 0; tries < 50; tries++) {
    const answer = await fetch(`${server.url}/readyz`);
    if (answer.status === 503) return answer.json();
    await sleep(100);
  }
  throw new Error("still ready");
}

async function expectRefusingEverything(server: ServerProcess, client: ProtocolClient): Promise<void> {
  expect(await notReady(server)).toMatchObject({ status: "NOT_READY", notReady: { storage: expect.any(String) } });
  expect(await addUser(client, 1000)).toMatchObject({ ok: false, code: 14, errorInfo: { reason: "STORAGE_UNAVAILABLE" } });
  expect(await addUser(protocolClient("rest", server.url, server.adminToken), 1001)).toMatchObject({ ok: false, httpStatus: 503 });
  expect(server.stderr.join("\n")).toMatch(/"message":"database files lost: writes are refused until verifyd is restarted on its file"/);
}

describe("a running server's database files", () => {
  it("deleted with their directory: every call is refused and the server is not ready, instead of answering 200 into nothing", async () => {
    const directory = tempDirectory();
    const server = await startServerProcess(join(directory, "verifyd.sqlite"));
    const client = protocolClient("connect-json", server.url, server.adminToken);
    await addUsers(client, 3);
    rmSync(directory, { recursive: true, force: true });
    await expectRefusingEverything(server, client);
    expect(server.stderr.join("\n")).toContain("was deleted or moved away while this server had it open");
  });

  it("with the -wal file deleted: refused from then on, and every user answered before is in the database file after a restart", async () => {
    const database = join(tempDirectory(), "verifyd.sqlite");
    const server = await startServerProcess(database);
    const client = protocolClient("connect-json", server.url, server.adminToken);
    const added = await addUsers(client, 20);
    unlinkSync(`${database}-wal`);
    await expectRefusingEverything(server, client);
    expect(server.stderr.join("\n")).toContain("-wal file");
    server.child.kill("SIGKILL");
    await server.exited;

    const restarted = await startServerProcess(database);
    const again = protocolClient("connect-json", restarted.url, restarted.adminToken);
    for (const userId of added) expectOk(await again.call("getUserByID", { userId }));
  });

  it("moved away: refused, and the moved file holds everything written, so moving it back and restarting loses nothing", async () => {
    const directory = tempDirectory();
    const database = join(directory, "verifyd.sqlite");
    const server = await startServerProcess(database);
    const client = protocolClient("connect-json", server.url, server.adminToken);
    const added = await addUsers(client, 10);
    const moved = join(directory, "moved.sqlite");
    renameSync(database, moved);
    await expectRefusingEverything(server, client);
    await server.stop();

    rmSync(`${database}-wal`, { force: true });
    rmSync(`${database}-shm`, { force: true });
    renameSync(moved, database);
    const restarted = await startServerProcess(database);
    const again = protocolClient("connect-json", restarted.url, restarted.adminToken);
    for (const userId of added) expectOk(await again.call("getUserByID", { userId }));
  });

  it("whose presence file cannot be removed: a shutdown still closes the database and stops cleanly", async () => {
    const database = join(tempDirectory(), "verifyd.sqlite");
    const server = await startServerProcess(database);
    // What a file system gone read-only does to the removal, as a root-run test can provoke it: its directory is a file.
    rmSync(`${database}-open`, { recursive: true, force: true });
    writeFileSync(`${database}-open`, "");
    expect(await server.stop()).toMatchObject({ code: 0 });
    expect(server.stderr.join("\n")).toContain("verifyd stopped");
  });
});
