// A server writes through the files it opened, whatever happens to their names. Deleting the data directory, deleting
// the -wal file or moving the database away under a running server left it answering 200 and READY while every write
// went into files no name led to any more, all of it lost at the next restart (found by a storage-fault trial). So a
// server watches that its path still names the file it opened, and that the -wal file it writes to is still there.
import { statSync } from "node:fs";

/** How often the names are looked up: two stat calls, about 10 µs. */
const watchIntervalMs = 1_000;

export interface FileIdentityWatch {
  /** What happened to the files, once something did; undefined while the path still leads to them. */
  lost(): string | undefined;
  stop(): void;
}

/** Calls `onLost` once, with what happened, when `path` or its -wal file no longer names the file that was opened. */
export function watchFileIdentity(path: string, onLost: (reason: string) => void): FileIdentityWatch {
  const wal = `${path}-wal`;
  const database = identityOf(path);
  // SQLite makes the -wal file at the first write and removes it only when the last connection closes.
  let walFile = identityOf(wal);
  let lost: string | undefined;

  const look = () => {
    lost = whatHappened();
    if (lost === undefined) return;
    clearInterval(timer);
    onLost(lost);
  };
  const whatHappened = (): string | undefined => {
    const now = identityOf(path);
    if (now === undefined) return `the database file ${path} was deleted or moved away while this server had it open`;
    if (now !== database) return `the database file ${path} was replaced by another file while this server had it open`;
    const walNow = identityOf(wal);
    if (walFile === undefined) walFile = walNow;
    else if (walNow !== walFile) return `the database's -wal file ${wal} was deleted or replaced while this server had it open`;
    return undefined;
  };
  const timer = setInterval(look, watchIntervalMs).unref();

  return {
    lost: () => lost,
    stop: () => clearInterval(timer),
  };
}

/** The device and inode a path names now; undefined when it names nothing. */
function identityOf(path: string): string | undefined {
  try {
    const { dev, ino } = statSync(path, { bigint: true });
    return `${dev}:${ino}`;
  } catch {
    return undefined;
  }
}
