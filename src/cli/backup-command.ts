// `verifyd backup <file>`: an online, consistent copy of the database, taken with SQLite's backup API while servers
// keep reading and writing it. The copy holds what the database holds (hashed secrets, sealed messages, personal
// data), so it is written owner-only, under a temporary name until it is complete and checked.
import { existsSync, linkSync, realpathSync, renameSync, rmSync, statSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { setImmediate } from "node:timers/promises";
import Database, { SqliteError } from "better-sqlite3";
import { temporaryNameFor, writeNewOwnerOnlyFile } from "../crypto/owner-only-file.js";
import { isPostgresUrl } from "../store/database-url.js";
import { openConnection } from "../store/sqlite/open-database.js";
import type { CommandDefinition } from "./command.js";
import { CommandFailure } from "./command-failure.js";
import { parseCommandLine } from "./command-line.js";
import { UsageError } from "./usage-error.js";

/**
 * SQLite's backup step takes a page count; this one copies everything left in one step, because a copy in several
 * steps starts over whenever a server writes between them, and a busy server writes all the time.
 */
const allPages = 0x7fffffff;

/**
 * The copy and its check block the event loop, so a signal that comes meanwhile waits. Node reads it in the loop's
 * poll phase, which comes before the next setImmediate: one turn lets the command end on it before the copy is placed.
 */
const handleSignalsReceived = () => setImmediate();

export const backupCommand: CommandDefinition<"database"> = {
  arguments: { usage: "<file>", min: 1, max: 1 },
  description: [
    "The copy is consistent (one moment of the database, also while servers write to it), readable by its owner",
    "only (0600), passes SQLite's quick_check, and is a complete database: start a server on it to restore. It is",
    "written under a temporary name beside <file> and renamed when complete, so <file> never holds half a copy.",
    "",
    "The copy does not hold the keys that open its codes and messages: keep the keyring (VERIFYD_KEYS, or",
    "keyring.json beside the database) with it, apart from the copy.",
  ].join("\n"),
  flags: { force: { type: "boolean", description: "Replace <file> if it exists." } },
  settings: ["database"],
  async run(args, env) {
    const { settings, flags, positionals } = parseCommandLine(backupCommand, args, env);
    if (isPostgresUrl(settings.database)) {
      throw new UsageError("verifyd backup copies a SQLite file; back up a PostgreSQL database with pg_dump (or your provider's backups)");
    }
    const target = resolve(positionals[0]!);
    refuseTarget(target, settings.database, flags.force === true);
    const source = openConnection(settings.database, { create: false });
    const temporary = temporaryNameFor(target);
    // What a failure or an interruption leaves: the partial copy, and the journal SQLite may have kept beside it.
    // Ctrl-C or a scheduler's timeout ends the command through process.exit (run-cli.ts): no partial copy of personal
    // data stays behind then either.
    const removeLeftovers = () => {
      for (const leftover of [temporary, `${temporary}-journal`]) rmSync(leftover, { force: true });
    };
    process.once("exit", removeLeftovers);
    try {
      createOwnerOnly(temporary, target);
      try {
        await source.sqlite.backup(temporary, { progress: () => allPages });
        await handleSignalsReceived();
        checkCopy(temporary, settings.database);
      } catch (error) {
        throw unwritableCopy(error, target);
      }
      await handleSignalsReceived();
      placeCopy(temporary, target, flags.force === true);
    } finally {
      process.off("exit", removeLeftovers);
      source.close();
      removeLeftovers();
    }
    process.stdout.write(`backed up ${settings.database} to ${target} (${size(statSync(target).size)}, owner-only, quick_check ok)\n`);
    return 0;
  },
};

function refuseTarget(target: string, database: string, force: boolean): void {
  const directory = dirname(target);
  if (!existsSync(directory)) throw new UsageError(`cannot write the backup ${target}: the directory ${directory} does not exist`);
  // Also SQLite's files beside it, which hold committed changes not yet in the database file, whether they exist now.
  const own = sqliteSuffixes.map((suffix) => `${resolved(database)}${suffix}`);
  if (own.includes(resolved(target))) {
    throw new UsageError(`${target} is the database itself or one of SQLite's files beside it; give the backup another file`);
  }
  if (!existsSync(target)) return;
  if (statSync(target).isDirectory()) throw new UsageError(`${target} is a directory; give the backup a file name in it`);
  if (!force) throw new UsageError(`${target} exists; give another file, or --force to replace it`);
}

const sqliteSuffixes = ["", "-wal", "-shm", "-journal"];

/** The path with every symbolic link resolved, also when it does not exist yet (as far as its directory does). */
function resolved(path: string): string {
  if (existsSync(path)) return realpathSync(path);
  const directory = dirname(path);
  return directory === path ? path : join(resolved(directory), basename(path));
}

function createOwnerOnly(temporary: string, target: string): void {
  try {
    writeNewOwnerOnlyFile(temporary, "");
  } catch (error) {
    const { code, message } = error as NodeJS.ErrnoException;
    throw new UsageError(`cannot write the backup ${target} (${code ?? message}); choose a directory this user may write to`);
  }
}

/**
 * SQLite's message ("database or disk is full") would read as if the database's own disk were full, while it is the
 * copy's that is.
 */
function unwritableCopy(error: unknown, target: string): unknown {
  if (!(error instanceof SqliteError)) return error;
  if (error.code === "SQLITE_FULL") {
    return new CommandFailure(`cannot write the backup ${target}: its disk is full; free space on it, or back up to another disk`);
  }
  if (error.code === "SQLITE_IOERR_WRITE") {
    return new CommandFailure(
      `cannot write the backup ${target}: its disk refused the write (out of space or quota, a file size limit, or failing; ${error.code}); make room, or back up to another disk`,
    );
  }
  return error;
}

/** A self-contained file (no -wal beside it) that SQLite finds sound. */
function checkCopy(path: string, database: string): void {
  const copy = new Database(path);
  try {
    copy.pragma("journal_mode = DELETE");
    const problems = (copy.pragma("quick_check") as { quick_check: string }[]).map((row) => row.quick_check);
    if (problems.length !== 1 || problems[0] !== "ok") {
      throw new CommandFailure(
        `the copy of ${database} fails SQLite's quick_check (${problems[0]}), so the database itself is damaged; no backup was written`,
      );
    }
  } finally {
    copy.close();
  }
}

function placeCopy(temporary: string, target: string, force: boolean): void {
  if (force) return renameSync(temporary, target);
  try {
    // link fails if the file exists: one created since the check above is not replaced either.
    linkSync(temporary, target);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    throw new UsageError(`${target} exists; give another file, or --force to replace it`);
  }
}

function size(bytes: number): string {
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}
