// Opens the one SQLite file the service keeps everything in, checks it, and brings its schema up to date. Anything
// that keeps the file from opening is a StartupError naming the file and what to do.
import { chmodSync, closeSync, existsSync, openSync, statSync } from "node:fs";
import { dirname } from "node:path";
import Database, { SqliteError } from "better-sqlite3";
import { DrizzleError } from "drizzle-orm";
import { type BetterSQLite3Database, drizzle } from "drizzle-orm/better-sqlite3";
import { migrate } from "drizzle-orm/better-sqlite3/migrator";
import type { Logger } from "../../logger.js";
import { StartupError, unwritableFileProblem } from "../../startup-error.js";
import { isPrivateDatabase } from "../database-url.js";
import { holdExclusivelyWhileAlone } from "./exclusive-holding.js";
import { announcePresence, countOthersPresent, type Presence } from "./file-presence.js";
import { watchFileIdentity } from "./file-identity.js";
import { createPendingMigrations, migrationsFolder } from "./migration-status.js";
import { refuseSharedVerifiedContacts } from "./shared-verified-contacts.js";
import { refuseMissingTables, refuseUnrecordedSchema } from "./schema-tables.js";
import { type CaseClash, type CaseFolding, caseClashesRefusal, mailboxFolding, migratesToFolding, usernameFolding } from "../case-clashes.js";
import { type SqliteFailure, isSqliteFailure } from "./sqlite-errors.js";
import { driverError } from "../storage-failure.js";
import { makeOwnerOnlyDirectory } from "../../owner-only-directory.js";

export type Db = BetterSQLite3Database & { $client: Database.Database };

export interface DatabaseHandle {
  db: Db;
  sqlite: Database.Database;
  /** A cheap read, for health checks. */
  probeRead(): void;
  /** A write transaction the size of a large call, for health checks while writes fail. */
  probeWrite(): void;
  /** This build's migrations that the database has not applied (none after a successful open), for readiness. */
  pendingMigrations(): number;
  /** With `watchFiles`: what happened to the files, once their path no longer leads to them (file-identity.ts). */
  lostFiles(): string | undefined;
  /** The migrations the file lacked and now has, oldest first, by their drizzle-kit tags. */
  appliedMigrations: string[];
  close(): void;
}

export interface OpenDatabaseOptions {
  /**
   * Holds the file exclusively while no other verifyd process has it open (exclusive-holding.ts), as a server does;
   * off by default, for commands that only pass through.
   */
  holdExclusively?: boolean;
  /** Where holding and sharing the file is logged, and files lost under the server. */
  logger?: Logger;
  /** Watches that the path still names the files opened, as a server does (file-identity.ts); off by default. */
  watchFiles?: boolean;
  /** SQLite's quick_check before anything else reads the file; on by default. */
  integrityCheck?: boolean;
  /** Creates a missing file (and its directory), as the server's start does; on by default. */
  create?: boolean;
  /**
   * "apply" (the default) brings the schema up to date; "refuse" changes nothing and refuses a file that lacks any of
   * this build's migrations, for commands that must not change the schema under a server of another version.
   */
  migrations?: "apply" | "refuse";
}

/**
 * SQLite's page cache for the connection, 4 MiB rather than better-sqlite3's 16: the calls read users at random, so a
 * larger cache keeps hardly more of what the next call needs (the operating system's file cache serves the rest), and
 * its 12 MiB more was about a tenth of the server's peak RSS (`npm run bench -- --compare-commit`, README).
 */
const pageCacheKiB = 4096;

/**
 * The page size of a new file, half of SQLite's 4 KiB: a call changes a few rows at random places (its user, its event,
 * its limit entry, a wrong code's security log entry), and every page it changes is copied whole into the WAL at the
 * commit and again into the file at the checkpoint. A user's row still fits one page. Interleaved in the bench (README,
 * step 20): 0.95–0.98 of the CPU per successful VerifyPhone, 0.85–0.86 per wrong code. SQLite sets it only on a file
 * that has no pages yet; an existing file keeps its own.
 */
const newFilePageBytes = 2048;

/** How long a statement waits for another process's lock: far longer than a server holding the file takes to let go. */
const busyTimeoutMs = 5_000;

/**
 * How long opening waits while other verifyd processes have the file open: one lets go within a look (250 ms) of
 * seeing this one's presence, but may first finish a migration or a start slowed by a busy machine, and restarting
 * this process instead would only announce it again. Another program gets the usual busy timeout.
 */
const peerOpeningTimeoutMs = 30_000;

/** Comfortably more than one call writes (a few pages), so a probe that fits means calls fit too. */
const probeBytes = 64 * 1024;

export function openDatabase(path: string, options: OpenDatabaseOptions = {}): DatabaseHandle {
  const connection = openConnection(path, options);
  const { sqlite } = connection;
  try {
    // Before the switch to WAL, which writes the file's first page.
    sqlite.pragma(`page_size = ${newFilePageBytes}`);
    sqlite.pragma("journal_mode = WAL");
    sqlite.pragma("synchronous = NORMAL");
    sqlite.pragma(`cache_size = -${pageCacheKiB}`);
    sqlite.pragma("foreign_keys = ON");
    // What is deleted or overwritten is zeroed, in its page and in pages that become free, rather than left in the file's
    // free space (and in backups, which copy every page), so that a deleted user's name and numbers do not stay readable.
    // FAST zeroes only within pages still in use: deleting thirty users left them all in free pages.
    sqlite.pragma("secure_delete = ON");
    if (options.integrityCheck ?? true) checkIntegrity(sqlite, path);
    refuseSharedVerifiedContacts(sqlite, path);
    const db = drizzle(sqlite);
    refuseUnrecordedSchema(sqlite, path);
    const missing = createPendingMigrations(sqlite)().map((migration) => migration.tag);
    if (missing.length > 0) {
      if (options.migrations === "refuse") {
        throw new StartupError(
          `the database ${path} lacks migrations of this version (${missing.join(", ")}); apply them first with \`verifyd migrate\``,
        );
      }
      refuseCaseClashes(sqlite, path, missing);
      migrateConcurrently(db);
    }
    refuseMissingTables(sqlite, path);
    const pending = createPendingMigrations(sqlite);
    // Only once the file is in WAL mode with its shared-memory index: the exclusive mode can then be left again.
    const { presence } = connection;
    const holding =
      options.holdExclusively && presence ? holdExclusivelyWhileAlone(sqlite, path, presence, options.logger) : undefined;
    sqlite.pragma(`busy_timeout = ${busyTimeoutMs}`);
    const watch = options.watchFiles && !isPrivateDatabase(path) ? watchFileIdentity(path, (reason) => keepWhatWasWritten(sqlite, reason, options.logger)) : undefined;
    const read = sqlite.prepare("SELECT count(*) FROM organizations");
    const write = sqlite.prepare("INSERT OR REPLACE INTO storage_probe (id, written_at, room) VALUES (1, ?, zeroblob(?))");
    return {
      db,
      sqlite,
      probeRead: () => void read.get(),
      probeWrite: () => void write.run(Date.now(), probeBytes),
      pendingMigrations: () => pending().length,
      lostFiles: () => watch?.lost(),
      appliedMigrations: missing,
      close: () => {
        watch?.stop();
        holding?.stop();
        connection.close();
      },
    };
  } catch (error) {
    connection.close();
    // Drizzle's migrator wraps SQLite's error (a full disk as the migrations write) in its own, naming only the query.
    const cause = error instanceof DrizzleError ? error.cause : error;
    throw cause instanceof SqliteError ? explainOpenFailure(cause, path, connection) : error;
  }
}

/**
 * Copies what the -wal file holds into the database file, which still has the data the server wrote when only the -wal
 * file was deleted, or when the file was moved (it then holds everything under its new name). The server then refuses
 * writes (storage-health.ts) until it is restarted on its file.
 */
function keepWhatWasWritten(sqlite: Database.Database, reason: string, logger: Logger | undefined): void {
  let kept = "the writes so far are in the database file, wherever it is now";
  try {
    sqlite.pragma("wal_checkpoint(TRUNCATE)");
  } catch (error) {
    kept = `the writes since the last checkpoint may be lost (${(error as Error).message})`;
  }
  logger?.error("database files lost: writes are refused until verifyd is restarted on its file", { reason, kept });
}

/** A connection to the file, announced to servers that hold it (file-presence.ts) until it is closed. */
export interface FileConnection {
  sqlite: Database.Database;
  /** Undefined for a private database, which no other process can open. */
  presence: Presence | undefined;
  /** How long a statement waits for a lock until the open is done: longer while other verifyd processes are present. */
  openingTimeoutMs: number;
  close(): void;
}

/**
 * A connection to the file that has written nothing to it yet: no check, no migration, not even the switch to WAL,
 * for commands that copy the file or only look at it.
 */
export function openConnection(path: string, options: Pick<OpenDatabaseOptions, "create"> = {}): FileConnection {
  const shared = !isPrivateDatabase(path);
  const create = options.create ?? true;
  if (shared && create) createOwnerOnly(path);
  // A command's own private database would be a new, empty one: there is none to find.
  else if (!create && (!shared || !existsSync(path))) {
    throw new StartupError(`there is no database ${path}; give verifyd's database file with --database / DATABASE_URL`);
  }
  // Before the first access, so that a server holding the file lets go of it while this connection waits.
  const presence = shared ? announcePresence(path) : undefined;
  const openingTimeoutMs = presence && countOthersPresent(presence) > 0 ? peerOpeningTimeoutMs : busyTimeoutMs;
  let sqlite: Database.Database | undefined;
  try {
    sqlite = new Database(path);
    // First, so that a second process on the file waits for locks, even for the switch to WAL, instead of failing.
    sqlite.pragma(`busy_timeout = ${openingTimeoutMs}`);
    // Reads the header, so that a file that is not a database is refused here, explained.
    sqlite.pragma("schema_version");
    const opened = sqlite;
    return {
      sqlite: opened,
      presence,
      openingTimeoutMs,
      close() {
        opened.close();
        presence?.withdraw();
      },
    };
  } catch (error) {
    sqlite?.close();
    presence?.withdraw();
    throw error instanceof SqliteError ? explainOpenFailure(error, path, { presence, openingTimeoutMs }) : error;
  }
}

function createOwnerOnly(path: string): void {
  try {
    makeOwnerOnlyDirectory(dirname(path));
    // The file holds names, phone numbers and emails: owner-only. SQLite gives its -wal and -shm files the same mode.
    // A file made elsewhere (copied in with cp or scp under umask 022) is made owner-only too, with the -wal and -shm
    // that took its mode (a white-box review found all three readable by every user, with no word about it).
    closeSync(openSync(path, "a", 0o600));
    for (const file of [path, `${path}-wal`, `${path}-shm`]) keepToOwner(file);
  } catch (error) {
    throw whyNotCreated(path, error as NodeJS.ErrnoException);
  }
}

const elsewhere = "choose another file with --database / DATABASE_URL";

function whyNotCreated(path: string, error: NodeJS.ErrnoException): StartupError {
  if (error.code === "EISDIR") return new StartupError(`the database ${path} is a directory; give the path of a file in it, or ${elsewhere}`);
  const cannot = `cannot create or open the database ${path} (${error.code ?? error.message})`;
  const problem = unwritableFileProblem(path, error);
  if (problem !== undefined) return new StartupError(`${cannot}: ${problem}, or ${elsewhere}`);
  // The directory exists by now: what refuses the write is the file's own mode (or immutable flag).
  if ((error.code === "EACCES" || error.code === "EPERM") && existsSync(path)) {
    return new StartupError(`${cannot}: the file is not writable by this user; run verifyd as its owner, or ${elsewhere}`);
  }
  return new StartupError(`${cannot}; check that its directory exists and is writable by this user, or ${elsewhere}`);
}

/** Takes group's and others' access away; a file of another user's, which this one cannot change, is left as it is. */
function keepToOwner(file: string): void {
  let mode: number;
  try {
    mode = statSync(file).mode;
  } catch {
    return;
  }
  if ((mode & 0o077) === 0) return;
  try {
    chmodSync(file, mode & 0o700);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EPERM") throw error;
  }
}

function checkIntegrity(sqlite: Database.Database, path: string): void {
  const problems = (sqlite.pragma("quick_check") as { quick_check: string }[]).map((row) => row.quick_check);
  if (problems.length === 1 && problems[0] === "ok") return;
  throw new StartupError(
    `the database ${path} is damaged (quick_check: ${problems[0]}); restore it from a backup (--skip-integrity-check starts anyway and serves what is readable)`,
  );
}

/**
 * A failure of the file's storage after it opened, such as a first start's writes on a nearly full disk, as the
 * start-up failure naming the file; undefined for any other error.
 */
export function explainStorageFailure(error: unknown, path: string): StartupError | undefined {
  const cause = driverError(error);
  if (!isSqliteFailure(cause)) return undefined;
  return explainOpenFailure(cause, path, { presence: undefined, openingTimeoutMs: busyTimeoutMs });
}

function explainOpenFailure(
  error: SqliteFailure,
  path: string,
  { presence, openingTimeoutMs }: Pick<FileConnection, "presence" | "openingTimeoutMs">,
): StartupError {
  if (error.code === "SQLITE_NOTADB") {
    return new StartupError(`${path} is not a SQLite database; give verifyd's database file with --database / DATABASE_URL`);
  }
  if (error.code.startsWith("SQLITE_CORRUPT")) {
    return new StartupError(`the database ${path} is damaged (${error.message}); restore it from a backup`);
  }
  if (error.code === "SQLITE_FULL") {
    return new StartupError(`cannot write the database ${path}: its disk is full; free space on it, then start again`);
  }
  if (error.code === "SQLITE_IOERR_WRITE") {
    return new StartupError(
      `cannot write the database ${path} (${error.code}): its disk refused the write (out of space or quota, a file size limit, or failing); make room or check the disk, then start again`,
    );
  }
  if (error.code.startsWith("SQLITE_CANTOPEN") || error.code.startsWith("SQLITE_READONLY")) {
    return new StartupError(
      `cannot write the database ${path} or its -wal and -shm files next to it (${error.code}); make its directory writable by this user`,
    );
  }
  if (!error.code.startsWith("SQLITE_BUSY")) {
    return new StartupError(`cannot open the database ${path}: ${error.message} (${error.code})`);
  }
  const locked = `the database ${path} stayed locked for ${openingTimeoutMs / 1000} s (${error.code})`;
  if (presence?.failure !== undefined) {
    return new StartupError(
      `${locked}, and a server holding it could not be told to let go: ${presence.failure}; make that directory writable by this user, or run the server with --sqlite-locking normal`,
    );
  }
  if (openingTimeoutMs === peerOpeningTimeoutMs) {
    return new StartupError(`${locked}: another verifyd process has it open and did not let go; see what it logged, or stop it first`);
  }
  return new StartupError(
    `${locked}: another program holds it, such as a verifyd older than this one (stop it first) or a tool with a transaction open`,
  );
}

/** The users that one migration's folding of a login name's case would make share one, by organization. */
const caseClashes = new Map<CaseFolding, string>([
  [mailboxFolding, "SELECT resource_owner AS organizationId, group_concat(id, ', ') AS userIds FROM users WHERE verified_email IS NOT NULL GROUP BY lower(verified_email), resource_owner HAVING count(*) > 1"],
  [usernameFolding, "SELECT resource_owner AS organizationId, group_concat(id, ', ') AS userIds FROM users GROUP BY lower(username), resource_owner HAVING count(*) > 1"],
]);

function refuseCaseClashes(sqlite: Database.Database, path: string, missing: readonly string[]): void {
  for (const [folding, query] of caseClashes) {
    if (!migratesToFolding(missing, folding)) continue;
    const refusal = caseClashesRefusal(path, folding, sqlite.prepare(query).all() as CaseClash[]);
    if (refusal !== undefined) throw new StartupError(refusal);
  }
}

/**
 * Drizzle's migrator reads which migrations are applied before it opens its transaction, so when two processes
 * start at once both may set out to apply the same ones. The loser fails (a table already exists, or its snapshot
 * went stale) and rolls back; by then the winner has committed, so running again finds nothing left to do.
 */
function migrateConcurrently(db: Db, attempts = 3): void {
  for (let attempt = 1; ; attempt++) {
    try {
      migrate(db, { migrationsFolder });
      return;
    } catch (error) {
      if (attempt >= attempts) throw error;
    }
  }
}
