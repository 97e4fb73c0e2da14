// Every verifyd process that opens a SQLite file says so with a small file beside it, `<database>-open-<id>`, kept
// fresh while the connection is open. A server that holds the database file exclusively (exclusive-holding.ts) looks
// for them and lets go of the file while any other is there, so that `verifyd backup`, the outbox commands and a
// second server on the same file get in within a fraction of a second.
// - Freshness is the file's modification time, not a process id: two containers sharing a volume see each other's
//   files but not each other's processes. A process that died without removing its file is forgotten once the file
//   is older than staleAfterMs.
// - Announcing is best effort: where the file cannot be written, the connection still opens; if a server holds the
//   file then, the open waits for SQLite's lock and fails with a line that says why.
import { randomBytes } from "node:crypto";
import { readdir, rm, stat, writeFile } from "node:fs/promises";
import { rmSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";

/** How often a presence file is touched. */
const refreshMs = 5_000;
/** A presence file not touched for this long belongs to a process that is gone (six refreshes missed). */
export const staleAfterMs = 30_000;

export interface Presence {
  /** The presence file's path, so that a process can tell its own file from others'. */
  readonly file: string;
  withdraw(): void;
}

function presencePrefix(database: string): string {
  return `${basename(database)}-open-`;
}

export function announcePresence(database: string): Presence {
  const file = join(dirname(database), `${presencePrefix(database)}${randomBytes(6).toString("hex")}`);
  const write = () => writeFile(file, `${process.pid}\n`).catch(() => undefined);
  try {
    writeFileSync(file, `${process.pid}\n`);
  } catch {
    // Best effort (above).
  }
  const refresh = setInterval(write, refreshMs).unref();
  return {
    file,
    withdraw() {
      clearInterval(refresh);
      rmSync(file, { force: true });
    },
  };
}

/**
 * How many other verifyd connections to `database` are open now, by their fresh presence files. Files gone stale are
 * removed on the way.
 */
export async function countOthersPresent(database: string, own: Presence, now = Date.now()): Promise<number> {
  const directory = dirname(database);
  const prefix = presencePrefix(database);
  let names: string[];
  try {
    names = await readdir(directory);
  } catch {
    return 0;
  }
  let others = 0;
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const file = join(directory, name);
    if (file === own.file) continue;
    const modified = await stat(file).then((info) => info.mtimeMs, () => undefined);
    if (modified === undefined) continue;
    if (now - modified < staleAfterMs) others++;
    // Best effort: a file of another user's process may not be ours to remove.
    else await rm(file, { force: true }).catch(() => undefined);
  }
  return others;
}
