// Start-up and backups on storage that fails them (found by a storage-fault trial): a full disk, a damaged schema, a
// file or path that cannot be written. Each is one line naming the file and what is actually wrong, and leaves nothing
// that stops the next start once the operator has fixed it.
import { execFileSync } from "node:child_process";
import { chmodSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { type CommandResult, runCommand } from "../helpers/run-command.js";
import {
  type FinishedProcess,
  adminTokenFileOf,
  childEnv,
  runServerProcessToExit,
  serverProcessDirectories,
  startServerProcess,
} from "../helpers/server-process.js";

const repoRoot = join(import.meta.dirname, "..", "..");
const tempDirectory = serverProcessDirectories("verifyd-storage-startup-");
const tempDatabase = () => join(tempDirectory(), "verifyd.sqlite");
const verifydEntry = [process.execPath, "--import", "tsx", join(repoRoot, "src/main.ts")];

/** The one plain line a failed start printed (log lines are JSON), after checking how it ended. */
function startupFailure(exit: FinishedProcess | CommandResult, exitCode = 2): string {
  const stderr = Array.isArray(exit.stderr) ? exit.stderr : exit.stderr.split("\n").filter((line) => line !== "");
  expect("code" in exit ? exit.code : exit.exitCode, stderr.join("\n")).toBe(exitCode);
  expect(stderr.join("\n")).not.toMatch(/^\s+at /m);
  const plain = stderr.filter((line) => !line.startsWith("{"));
  expect(plain, stderr.join("\n")).toHaveLength(1);
  return plain[0]!;
}

function verifyd(args: string[]): Promise<CommandResult> {
  const [file, ...first] = verifydEntry;
  return runCommand(file!, [...first, ...args], { cwd: repoRoot, env: childEnv({}), timeoutMs: 60_000 });
}

/** A database as `verifyd migrate` leaves it: every table, no administrator yet. */
async function migratedDatabase(): Promise<string> {
  const database = tempDatabase();
  const migrated = await verifyd(["migrate", "--database", database]);
  expect(migrated.exitCode, migrated.stderr).toBe(0);
  return database;
}

/**
 * Runs `script` (sh; $0 is `directory`) with a small tmpfs mounted on `directory`, seen by it alone (a mount namespace
 * of its own, as root of a user namespace): a disk that fills up, without touching the machine's.
 */
function onSmallDisk(directory: string, size: string, script: string, args: string[] = []): Promise<CommandResult> {
  const mounted = `mount -t tmpfs -o size=${size} tmpfs "$0" && ${script}`;
  return runCommand("unshare", ["--mount", "--map-root-user", "sh", "-c", mounted, directory, ...args], {
    cwd: repoRoot,
    env: childEnv({}),
    timeoutMs: 60_000,
  });
}

/**
 * Where in the -wal file a first start's bootstrap transaction ends: a reference start is killed once it listens,
 * leaving its -wal as written, whose last commit that wrote the instance table's page is the bootstrap's.
 */
async function bootstrapCommitEnd(): Promise<number> {
  const database = tempDatabase();
  const server = await startServerProcess(database);
  server.child.kill("SIGKILL");
  await server.exited;
  const wal = readFileSync(`${database}-wal`);
  const sqlite = new Database(database, { readonly: true });
  const instancePage = sqlite.prepare("SELECT rootpage FROM sqlite_master WHERE name = 'instance'").pluck().get() as number;
  sqlite.close();
  const pageBytes = wal.readUInt32BE(8);
  const frameBytes = 24 + pageBytes;
  let instanceWritten = false;
  let end: number | undefined;
  for (let offset = 32; offset + frameBytes <= wal.length; offset += frameBytes) {
    instanceWritten ||= wal.readUInt32BE(offset) === instancePage;
    const commits = wal.readUInt32BE(offset + 4) !== 0;
    if (commits && instanceWritten) end = offset + frameBytes;
    if (commits) instanceWritten = false;
  }
  if (end === undefined) throw new Error("no commit in the -wal file wrote the instance table");
  return end;
}

describe("a first start on a nearly full disk", () => {
  it("whose administrator cannot be committed removes the token file it wrote, names the database, and the next start bootstraps", async () => {
    // Room for everything before the bootstrap's commit, and for all but the last page of it.
    const fileSizeLimit = (await bootstrapCommitEnd()) - 1024;
    const database = tempDatabase();
    const failed = await runServerProcessToExit(database, [], {
      command: ["prlimit", `--fsize=${fileSizeLimit}`, ...verifydEntry],
      ignoreFileSizeSignal: true,
    });
    // A file size limit is what a test can set; SQLite tells it (EFBIG) from a full disk (SQLITE_FULL) only by code.
    expect(startupFailure(failed)).toBe(
      `verifyd: cannot write the database ${database} (SQLITE_IOERR_WRITE): its disk refused the write (out of space or quota, a file size limit, or failing); make room or check the disk, then start again`,
    );
    expect(existsSync(adminTokenFileOf(database))).toBe(false);

    const server = await startServerProcess(database);
    const added = await fetch(`${server.url}/v2/users/human`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${server.adminToken}` },
      body: JSON.stringify({ profile: { givenName: "Ada", familyName: "Lovelace" }, phone: { phone: "+41791234567" } }),
    });
    expect(added.status).toBe(200);
  }, 90_000);

  it("that fills up during the migrations names the database and says its disk is full", async () => {
    const directory = tempDirectory();
    const database = join(directory, "verifyd.sqlite");
    // Room for SQLite's shared-memory index (32 KiB) and hardly more: the migrations' first write fails.
    const run = await onSmallDisk(directory, "40k", 'exec "$@"', [...verifydEntry, "--port", "0", "--database", database]);
    expect(startupFailure(run)).toBe(`verifyd: cannot write the database ${database}: its disk is full; free space on it, then start again`);
  }, 60_000);

  it("refuses an admin token file on a full disk, saying so, not that its directory is not writable", async () => {
    const database = tempDatabase();
    const directory = tempDirectory();
    const tokenFile = join(directory, "admin-token");
    const fill = 'head -c 1M /dev/zero > "$0/filler" 2>/dev/null; exec "$@"';
    const args = [...verifydEntry, "--port", "0", "--database", database, "--admin-token-file", tokenFile];
    expect(startupFailure(await onSmallDisk(directory, "16k", fill, args))).toBe(
      `verifyd: cannot write the admin token file ${tokenFile} (ENOSPC): its disk is full; free space on it, or choose another file with --admin-token-file / ADMIN_TOKEN_FILE`,
    );
  }, 60_000);
});

describe("a database file or path that cannot be written", () => {
  it("says the file is not writable by this user when the file, not its directory, refuses", async () => {
    const database = await migratedDatabase();
    // Root writes whatever the mode; an immutable file refuses even root.
    const asRoot = process.getuid?.() === 0;
    if (asRoot) execFileSync("chattr", ["+i", database]);
    else chmodSync(database, 0o444);
    try {
      const line = startupFailure(await runServerProcessToExit(database, []));
      expect(line).toBe(
        `verifyd: cannot create or open the database ${database} (${asRoot ? "EPERM" : "EACCES"}): the file is not writable by this user; run verifyd as its owner, or choose another file with --database / DATABASE_URL`,
      );
    } finally {
      if (asRoot) execFileSync("chattr", ["-i", database]);
    }
  });

  it("says the path is a directory", async () => {
    const database = tempDirectory();
    expect(startupFailure(await runServerProcessToExit(database, []))).toBe(
      `verifyd: the database ${database} is a directory; give the path of a file in it, or choose another file with --database / DATABASE_URL`,
    );
  });

  it("names the file that stands where a directory should, for the database and the admin token file", async () => {
    const notADirectory = join(tempDirectory(), "a-file");
    writeFileSync(notADirectory, "");
    for (const database of [join(notADirectory, "verifyd.sqlite"), join(notADirectory, "data", "verifyd.sqlite")]) {
      expect(startupFailure(await runServerProcessToExit(database, []))).toMatch(
        new RegExp(`^verifyd: cannot create or open the database ${database} \\((EEXIST|ENOTDIR)\\): ${notADirectory} is a file, not a directory; move it away, or choose another file with --database / DATABASE_URL$`),
      );
    }
    const tokenFile = join(notADirectory, "admin-token");
    expect(startupFailure(await runServerProcessToExit(tempDatabase(), ["--admin-token-file", tokenFile]))).toBe(
      `verifyd: cannot write the admin token file ${tokenFile} (EEXIST): ${notADirectory} is a file, not a directory; move it away, or choose another file with --admin-token-file / ADMIN_TOKEN_FILE`,
    );
  });
});

describe("a database that lacks one of verifyd's tables", () => {
  it.each(["events", "users", "outbox", "keys", "instance", "members", "__drizzle_migrations"])(
    "without %s is refused at start, naming the file and the table",
    async (table) => {
      const database = await migratedDatabase();
      const sqlite = new Database(database);
      // As the sqlite3 shell drops it: without the foreign keys' checks.
      sqlite.pragma("foreign_keys = OFF");
      sqlite.exec(`DROP TABLE "${table}"`);
      sqlite.close();
      expect(startupFailure(await runServerProcessToExit(database, []))).toBe(
        `verifyd: the database ${database} lacks table ${table}: it is damaged or not verifyd's; restore it from a backup (README, Backups)`,
      );
    },
  );
});

describe("a backup to a full disk", () => {
  it("says the backup's disk is full, and keeps the older backup it was to replace", async () => {
    const database = await migratedDatabase();
    const directory = tempDirectory();
    const target = join(directory, "copy.sqlite");
    // The copy's disk has room for less than the database: the older backup, then what is left on it once it ends.
    const script = 'printf "an older backup" > "$0/copy.sqlite" && "$@"; code=$?; ls -A "$0"; cat "$0/copy.sqlite"; exit $code';
    const run = await onSmallDisk(directory, "64k", script, [...verifydEntry, "backup", target, "--force", "--database", database]);
    expect(startupFailure(run, 1)).toBe(
      `verifyd: cannot write the backup ${target}: its disk is full; free space on it, or back up to another disk`,
    );
    expect(run.stdout).toBe("copy.sqlite\nan older backup");
  }, 60_000);
});
