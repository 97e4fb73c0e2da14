// `verifyd restore <copy>`: puts a backup in the database's place. A plain copy over the file is not enough: a server
// that was killed (kill -9, a crash) leaves its -wal file beside the database, and SQLite would replay that log onto
// the restored file at the next start, bringing back what the restore was meant to undo or damaging the file. So the
// copy is checked, no verifyd process may have the database open, the database it replaces is kept aside with its own
// -wal (a restore run by mistake, or from the wrong copy, loses nothing), and the copy is renamed into place,
// owner-only, in one step.
import { chmodSync, copyFileSync, existsSync, fsyncSync, openSync, closeSync, realpathSync, renameSync, rmSync, statSync } from "node:fs";
import { dirname, resolve } from "node:path";
import Database, { SqliteError } from "better-sqlite3";
import { temporaryNameFor } from "../crypto/owner-only-file.js";
import { isPostgresUrl } from "../store/database-url.js";
import { announcePresence, countOthersPresent } from "../store/sqlite/file-presence.js";
import type { CommandDefinition } from "./command.js";
import { CommandFailure } from "./command-failure.js";
import { parseCommandLine } from "./command-line.js";
import { UsageError } from "./usage-error.js";

/** SQLite's files beside a database, which belong to the file they sit next to and to no other. */
const sqliteCompanions = ["-wal", "-shm", "-journal"];

export const restoreCommand: CommandDefinition<"database"> = {
  arguments: { usage: "<copy>", min: 1, max: 1 },
  description: [
    "Replaces the database with <copy> (a file `verifyd backup` wrote). The servers must be stopped: it refuses while",
    "any verifyd process has the database open (a process killed without stopping counts for 30 s). It checks the copy",
    "with SQLite's quick_check, keeps the database it replaces as <database>.replaced-<UTC time>, with its -wal and",
    "-journal (a killed server's log would otherwise be replayed onto the copy), and renames the copy into place,",
    "owner-only (0600). Delete the kept file once the restored database is checked.",
    "",
    "Start the servers with the keys the copy was made with (VERIFYD_KEYS, or keyring.json beside the database).",
  ].join("\n"),
  settings: ["database"],
  async run(args, env) {
    const { settings, positionals } = parseCommandLine(restoreCommand, args, env);
    if (isPostgresUrl(settings.database)) {
      throw new UsageError("verifyd restore puts a SQLite file in place; restore a PostgreSQL database with pg_restore or psql");
    }
    const copy = resolve(positionals[0]!);
    const database = resolve(settings.database);
    checkCopy(copy, database);
    if (!existsSync(dirname(database))) {
      throw new UsageError(`cannot restore into ${database}: the directory ${dirname(database)} does not exist; create it first`);
    }
    refuseWhileOpen(database);

    const temporary = temporaryNameFor(database);
    let replaced: string | undefined;
    try {
      copyFileSync(copy, temporary);
      chmodSync(temporary, 0o600);
      flush(temporary);
      replaced = keepAside(database);
      renameSync(temporary, database);
    } catch (error) {
      rmSync(temporary, { force: true });
      if (replaced !== undefined && !existsSync(database)) moveWithCompanions(replaced, database);
      const { code, message } = error as NodeJS.ErrnoException;
      throw new CommandFailure(`cannot put ${copy} in the place of ${database} (${code ?? message}); the database is as it was`);
    }
    const kept = replaced === undefined ? "" : `; the database it replaced is kept as ${replaced} (delete it once this one is checked)`;
    process.stdout.write(`restored ${database} from ${copy} (quick_check ok)${kept}; start the servers with the keys it was made with\n`);
    return 0;
  },
};

/** A complete, sound verifyd database, not a database in use (whose -wal would not come with it). */
function checkCopy(copy: string, database: string): void {
  if (!existsSync(copy)) throw new UsageError(`${copy} does not exist; give a file verifyd backup wrote`);
  if (statSync(copy).isDirectory()) throw new UsageError(`${copy} is a directory; give a file verifyd backup wrote`);
  // By the files themselves: a link to the database is the database (found by a white-box review).
  const copyFile = realpathSync(copy);
  if (copyFile === (existsSync(database) ? realpathSync(database) : database)) {
    throw new UsageError(`${copy} is the database itself; give a copy of it`);
  }
  if (existsSync(`${copy}-wal`) || existsSync(`${copyFile}-wal`)) {
    throw new UsageError(`${copy} has a -wal file beside it: it is a database in use, not a backup; take one with verifyd backup`);
  }
  let problems: string[];
  try {
    const sqlite = new Database(copy, { readonly: true, fileMustExist: true });
    try {
      if (sqlite.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'users'").get() === undefined) {
        throw new CommandFailure(`${copy} is a SQLite database but not verifyd's; nothing was restored`);
      }
      problems = (sqlite.pragma("quick_check") as { quick_check: string }[]).map((row) => row.quick_check);
    } finally {
      sqlite.close();
    }
  } catch (error) {
    if (error instanceof SqliteError) throw new CommandFailure(`${copy} cannot be read as a database (${error.message}); nothing was restored`);
    throw error;
  }
  if (problems.length !== 1 || problems[0] !== "ok") {
    throw new CommandFailure(`${copy} fails SQLite's quick_check (${problems[0]}); nothing was restored`);
  }
}

function refuseWhileOpen(database: string): void {
  if (!existsSync(database)) return;
  const presence = announcePresence(database);
  try {
    const others = countOthersPresent(presence);
    if (others > 0) {
      throw new UsageError(
        `${others} verifyd process${others === 1 ? " has" : "es have"} ${database} open; stop the servers first (one killed without stopping is forgotten after 30 s)`,
      );
    }
  } finally {
    presence.withdraw();
  }
}

/**
 * Moves the database out of the way with the files that belong to it, under a name no earlier restore took. The -wal
 * and -journal go with it, so that the kept file opens as the database was; the -shm is an index SQLite rebuilds.
 */
function keepAside(database: string): string | undefined {
  if (!existsSync(database)) {
    for (const suffix of sqliteCompanions) rmSync(`${database}${suffix}`, { force: true });
    return undefined;
  }
  const stamp = new Date().toISOString().replace(/[-:]/g, "").replace(/\.\d+/, "");
  let kept = `${database}.replaced-${stamp}`;
  for (let n = 2; existsSync(kept); n++) kept = `${database}.replaced-${stamp}-${n}`;
  moveWithCompanions(database, kept);
  return kept;
}

function moveWithCompanions(from: string, to: string): void {
  rmSync(`${from}-shm`, { force: true });
  for (const suffix of ["-wal", "-journal"]) {
    if (existsSync(`${from}${suffix}`)) renameSync(`${from}${suffix}`, `${to}${suffix}`);
  }
  renameSync(from, to);
}

function flush(path: string): void {
  const fd = openSync(path, "r+");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
