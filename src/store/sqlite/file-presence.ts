// Every verifyd process that opens a SQLite file says so with a small file in a directory beside it,
// `<database>-open/<id>`, kept fresh while the connection is open. A server that holds the database file exclusively
// (exclusive-holding.ts) looks there and lets go of the file while any other is there, so that `verifyd backup`, the
// outbox commands and a second server on the same file get in within a fraction of a second.
// - The directory is named after the file's real path, so a symbolic link to the database and the file itself meet
//   in one place, as they do in SQLite's locks; it holds nothing else, so a look costs the same however full the
//   database's own directory is.
// - Freshness is the file's modification time, not a process id: two containers sharing a volume see each other's
//   files but not each other's processes. A process that died without removing its file is forgotten once the file
//   is older than staleAfterMs; one that exits (process.exit included) removes it.
// - Announcing is best effort: where the file cannot be written, the connection still opens, and the failure is kept
//   so that an open that then finds the file locked can say why.
import { randomBytes } from "node:crypto";
import { readdirSync, realpathSync, rmSync, statSync, writeFileSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { makeOwnerOnlyDirectory } from "../../owner-only-directory.js";

/** How often a presence file is touched. */
const refreshMs = 5_000;
/** A presence file not touched for this long belongs to a process that is gone (six refreshes missed). */
const staleAfterMs = 30_000;

export interface Presence {
  /** The presence file's path, so that a process can tell its own file from others'. */
  readonly file: string;
  /** Why the presence file could not be written, if it could not. */
  readonly failure?: string;
  withdraw(): void;
}

const announced = new Set<string>();
process.once("exit", () => {
  for (const file of announced) removeQuietly(file);
});

/** Where the presence files of `database` are; the database must exist for its real path to be found. */
function presenceDirectory(database: string): string {
  let real = database;
  try {
    real = realpathSync(database);
  } catch {
    // Not there yet: the caller's open fails with its own explanation.
  }
  return `${real}-open`;
}

export function announcePresence(database: string): Presence {
  const directory = presenceDirectory(database);
  const file = join(directory, randomBytes(6).toString("hex"));
  let failure: string | undefined;
  try {
    makeOwnerOnlyDirectory(directory);
    writeFileSync(file, `${process.pid}\n`, { mode: 0o600 });
    announced.add(file);
  } catch (error) {
    const { code, message } = error as NodeJS.ErrnoException;
    failure = `cannot write ${file} (${code ?? message})`;
  }
  const refresh = setInterval(() => void writeFile(file, `${process.pid}\n`, { mode: 0o600 }).catch(() => undefined), refreshMs).unref();
  return {
    file,
    ...(failure === undefined ? {} : { failure }),
    withdraw() {
      clearInterval(refresh);
      announced.delete(file);
      // Best effort as announcing is: a file left behind is forgotten once stale, while a throw here failed a shutdown
      // on a file system gone read-only before the database was even closed (a storage-fault trial).
      removeQuietly(file);
    },
  };
}

/**
 * How many other verifyd connections to the database `own` announced itself for are open now, by their fresh presence
 * files. Files gone stale are removed on the way. Synchronous, as the directory holds a file per process: a look costs
 * microseconds, and never waits behind other work in libuv's thread pool (password hashing, say), where a server's
 * look could be delayed past the time another process waits for the file.
 */
export function countOthersPresent(own: Presence, now = Date.now()): number {
  const directory = join(own.file, "..");
  let names: string[];
  try {
    names = readdirSync(directory);
  } catch {
    return 0;
  }
  let others = 0;
  for (const name of names) {
    const file = join(directory, name);
    if (file === own.file) continue;
    const modified = modifiedAt(file);
    if (modified === undefined) continue;
    if (now - modified < staleAfterMs) others++;
    // Best effort: a file of another user's process may not be ours to remove.
    else removeQuietly(file);
  }
  return others;
}

/** Undefined for a file gone since the directory was read, or one this process may not look at. */
function modifiedAt(file: string): number | undefined {
  try {
    return statSync(file).mtimeMs;
  } catch {
    return undefined;
  }
}

function removeQuietly(file: string): void {
  try {
    rmSync(file, { force: true });
  } catch {
    // Left for its owner.
  }
}
