// A server holds its SQLite file exclusively while no other verifyd process has it open (--sqlite-locking exclusive,
// the default), and lets verifyd's commands and other servers in; --sqlite-locking normal leaves the file to anyone.
// "Another program" here is a plain better-sqlite3 connection that does not announce itself, as the sqlite3 shell.
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { lookEveryMs } from "../../src/store/sqlite/exclusive-holding.js";
import { announcePresence } from "../../src/store/sqlite/file-presence.js";
import { unique, uniqueMobile } from "../helpers/api-session.js";
import { expectOk, protocolClient } from "../helpers/protocol-clients.js";
import { runCommand } from "../helpers/run-command.js";
import { type ServerProcess, childEnv, runServerProcessToExit, serverProcessDirectories, startServerProcess } from "../helpers/server-process.js";

const tempDatabase = (() => {
  const directory = serverProcessDirectories("verifyd-locking-");
  return () => join(directory(), "verifyd.sqlite");
})();

/** What another program gets when it counts the users: their number, or SQLite's error code. */
function readByAnotherProgram(database: string): number | string {
  try {
    const sqlite = new Database(database, { timeout: 200 });
    try {
      return sqlite.prepare("SELECT count(*) FROM users").pluck().get() as number;
    } finally {
      sqlite.close();
    }
  } catch (error) {
    return (error as { code: string }).code;
  }
}

function verifyd(args: string[]) {
  return runCommand(process.execPath, ["--import", "tsx", "src/main.ts", ...args], { env: childEnv({}), timeoutMs: 60_000 });
}

async function addUser(server: ServerProcess): Promise<string> {
  const client = protocolClient("grpc", server.url, server.adminToken);
  const added = expectOk(
    await client.call("addHumanUser", { username: unique("lock"), profile: { givenName: "Ada", familyName: "Lovelace" }, phone: { phone: uniqueMobile(), returnCode: {} } }),
  );
  return added.userId as string;
}

describe("--sqlite-locking exclusive (the default)", () => {
  it("keeps other programs out while the server is alone, and lets verifyd's own commands in", async () => {
    const database = tempDatabase();
    const server = await startServerProcess(database);
    try {
      await addUser(server);
      await expect.poll(() => readByAnotherProgram(database)).toBe("SQLITE_BUSY");

      const backup = await verifyd(["backup", join(database, "..", "copy.sqlite"), "--database", database]);
      expect(backup.stderr).toBe("");
      expect(backup.stdout).toMatch(/^backed up .* quick_check ok\)\n$/);
      const listed = await verifyd(["outbox", "list-dead", "--database", database]);
      expect(listed).toMatchObject({ exitCode: 0, stdout: "no dead messages\n" });
      expect(readByAnotherProgram(join(database, "..", "copy.sqlite"))).toEqual(expect.any(Number));

      // Taken back once they are gone, and the server still answers.
      await expect.poll(() => readByAnotherProgram(database)).toBe("SQLITE_BUSY");
      await addUser(server);
      expect(server.stderr.join("\n")).toContain('"message":"database: shared with other verifyd processes"');
    } finally {
      await server.stop();
    }
  });

  it("serves beside a program that still reads when the other verifyd leaves, and takes the file back after it", async () => {
    const database = tempDatabase();
    const server = await startServerProcess(database);
    try {
      await addUser(server);
      // Announced as verifyd's commands do, so the server lets go; then a read transaction held open past the
      // announcement's end, as a slow tool would.
      const presence = announcePresence(database);
      const reader = new Database(database, { timeout: 5_000 });
      reader.exec("BEGIN");
      expect(reader.prepare("SELECT count(*) FROM users").pluck().get()).toEqual(expect.any(Number));
      presence.withdraw();

      // Several of the server's looks: each finds the file busy and leaves it shared. Had one waited on the reader,
      // it would have held the server's calls for SQLite's busy timeout (5 s).
      await sleep(3 * lookEveryMs);
      const started = Date.now();
      for (let i = 0; i < 5; i++) await addUser(server);
      expect(Date.now() - started).toBeLessThan(4_000);
      reader.exec("COMMIT");
      reader.close();

      await expect.poll(() => readByAnotherProgram(database)).toBe("SQLITE_BUSY");
      expect(server.stderr.filter((line) => line.includes('"level":"warn"') && line.includes("database"))).toEqual([]);
    } finally {
      await server.stop();
    }
  });

  it("forgets a presence file that a process which died left behind", async () => {
    const database = tempDatabase();
    const first = await startServerProcess(database);
    await first.stop();
    mkdirSync(`${database}-open`, { recursive: true });
    const leftover = join(`${database}-open`, "0123456789ab");
    writeFileSync(leftover, "4242\n");
    const minuteAgo = new Date(Date.now() - 60_000);
    utimesSync(leftover, minuteAgo, minuteAgo);

    const server = await startServerProcess(database);
    try {
      await expect.poll(() => readByAnotherProgram(database)).toBe("SQLITE_BUSY");
      expect(existsSync(leftover)).toBe(false);
    } finally {
      await server.stop();
    }
  });

  it("meets a command that names the file through a symbolic link, as SQLite's locks do", async () => {
    const database = tempDatabase();
    const server = await startServerProcess(database);
    try {
      await addUser(server);
      const link = join(database, "..", "..", `${Date.now()}-link.sqlite`);
      symlinkSync(database, link);
      const listed = await verifyd(["outbox", "list-dead", "--database", link]);
      rmSync(link);
      expect(listed).toMatchObject({ exitCode: 0, stdout: "no dead messages\n" });
    } finally {
      await server.stop();
    }
  });

  it("leaves neither a partial copy nor its presence behind when a backup is interrupted", async () => {
    const database = tempDatabase();
    const server = await startServerProcess(database);
    await server.stop();
    // Large enough that the copy is still under way when the signal comes.
    const sqlite = new Database(database);
    sqlite.exec(
      "CREATE TABLE ballast (b BLOB); WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 400) INSERT INTO ballast SELECT zeroblob(1048576) FROM n",
    );
    sqlite.close();
    const target = join(database, "..", "backups");
    mkdirSync(target);

    const backup = spawn(process.execPath, ["--import", "tsx", "src/main.ts", "backup", join(target, "copy.sqlite"), "--database", database], { env: childEnv({}) });
    const exited = new Promise<number | null>((resolve) => backup.on("exit", (code) => resolve(code)));
    // Once the partial copy has grown, SQLite's copy step (one step, so that writers cannot restart it) is under way.
    const copySize = () => readdirSync(target).reduce((sum, name) => sum + (statSync(join(target, name), { throwIfNoEntry: false })?.size ?? 0), 0);
    await expect.poll(copySize, { timeout: 20_000, interval: 5 }).toBeGreaterThan(0);
    backup.kill("SIGTERM");
    expect(await exited).toBe(143);
    expect(readdirSync(target)).toEqual([]);
    expect(readdirSync(`${database}-open`)).toEqual([]);
  });

  it("leaves no presence behind when a command is interrupted, also while it waits for the file", async () => {
    const database = tempDatabase();
    const server = await startServerProcess(database);
    await server.stop();
    // Another program holds the file, so the command waits in SQLite's busy handler, where a signal cannot run code.
    const holder = new Database(database);
    holder.pragma("locking_mode = EXCLUSIVE");
    holder.exec("BEGIN IMMEDIATE; COMMIT");
    try {
      const command = spawn(process.execPath, ["--import", "tsx", "src/main.ts", "outbox", "list-dead", "--database", database], { env: childEnv({}) });
      const exited = new Promise<NodeJS.Signals | null>((resolve) => command.on("exit", (_code, signal) => resolve(signal)));
      await expect.poll(() => readdirSync(`${database}-open`).length, { timeout: 20_000, interval: 5 }).toBe(1);
      command.kill("SIGTERM");
      // Ended by itself, once SQLite let it go, rather than killed with its presence file left for 30 s.
      expect(await exited).toBeNull();
      expect(readdirSync(`${database}-open`)).toEqual([]);
    } finally {
      holder.close();
    }
  });

  /** A connection that keeps every other process out of `database`, as a server holding it does. */
  function holdFile(database: string): Database.Database {
    const holder = new Database(database);
    holder.pragma("journal_mode = WAL");
    holder.pragma("locking_mode = EXCLUSIVE");
    holder.exec("BEGIN IMMEDIATE; COMMIT");
    return holder;
  }

  it("waits at its start for another verifyd that has the file open, past the 5 s another program gets", async () => {
    const database = tempDatabase();
    // A verifyd slow to let go, as one busy migrating or on a loaded machine: announced, and holding the file.
    const holder = holdFile(database);
    const presence = announcePresence(database);
    const starting = startServerProcess(database);
    // The server is waiting for the file from when it announces itself.
    await expect.poll(() => readdirSync(`${database}-open`).length, { timeout: 20_000, interval: 5 }).toBe(2);
    await sleep(6_500);
    holder.close();
    presence.withdraw();
    const server = await starting;
    try {
      await addUser(server);
    } finally {
      await server.stop();
    }
  });

  it("refuses to start after 5 s when another program holds the file, naming the likely holders", async () => {
    const database = tempDatabase();
    const holder = holdFile(database);
    try {
      const run = await runServerProcessToExit(database, []);
      expect(run.code).toBe(2);
      expect(run.stderr.join("\n")).toContain(
        `verifyd: the database ${database} stayed locked for 5 s (SQLITE_BUSY): another program holds it, such as a verifyd older than this one (stop it first) or a tool with a transaction open`,
      );
    } finally {
      holder.close();
    }
  });

  it("lets a second server on the same file in, and both answer", async () => {
    const database = tempDatabase();
    const first = await startServerProcess(database);
    const second = await startServerProcess(database, { args: ["--admin-token-file", first.adminTokenFile] });
    try {
      const added = await addUser(first);
      const client = protocolClient("grpc", second.url, first.adminToken);
      expect(expectOk(await client.call("getUserByID", { userId: added })).user).toMatchObject({ userId: added });
      await addUser(second);
    } finally {
      await second.stop();
    }
    try {
      // Alone again: it takes the file back.
      await expect.poll(() => readByAnotherProgram(database)).toBe("SQLITE_BUSY");
      await addUser(first);
    } finally {
      await first.stop();
    }
  });
});

describe("--sqlite-locking normal", () => {
  it("leaves the file to other programs while the server runs", async () => {
    const database = tempDatabase();
    const server = await startServerProcess(database, { args: ["--sqlite-locking", "normal"] });
    try {
      await addUser(server);
      expect(readByAnotherProgram(database)).toEqual(expect.any(Number));
    } finally {
      await server.stop();
    }
    expect(server.stderr.join("\n")).not.toContain("held exclusively");
  });

  it("starts again and again in one directory: no keyring, and the token in a new directory of its own each time", async () => {
    const directory = join(tempDatabase(), "..");
    mkdirSync(directory, { recursive: true });
    const tokenFiles: string[] = [];
    for (let start = 0; start < 2; start++) {
      const server = await startServerProcess(":memory:", { cwd: directory });
      await addUser(server);
      tokenFiles.push(server.adminTokenFile);
      await server.stop();
    }
    expect(readdirSync(directory)).toEqual([]);
    expect(new Set(tokenFiles).size).toBe(2);
    for (const file of tokenFiles) {
      expect(file.startsWith(tmpdir())).toBe(true);
      expect(statSync(file).mode & 0o077).toBe(0);
      rmSync(join(file, ".."), { recursive: true });
    }
  });
});

describe("--database :memory:", () => {
  it("keeps the database in memory: no file, no presence directory, nothing to hold", async () => {
    const directory = join(tempDatabase(), "..");
    mkdirSync(directory, { recursive: true });
    const keys = `1:${Buffer.alloc(32, 7).toString("base64")}`;
    const server = await startServerProcess(":memory:", {
      args: ["--admin-token-file", join(directory, "admin-token")],
      env: { VERIFYD_KEYS: keys },
    });
    // The server's working directory, where a file named after the database would appear.
    const strayFiles = () => [":memory:", ":memory:-open"].filter((name) => existsSync(name));
    try {
      await addUser(server);
      expect(strayFiles()).toEqual([]);
    } finally {
      await server.stop();
      for (const name of strayFiles()) rmSync(name, { recursive: true });
    }
    expect(server.stderr.join("\n")).not.toContain("held exclusively");
  });
});
