// A server holds its SQLite file exclusively (SQLite's locking_mode=EXCLUSIVE) while no other verifyd process has
// the file open, and shares it (locking_mode=NORMAL) while any has (file-presence.ts).
// Why: in the normal mode every statement outside a transaction takes and drops the file's and the WAL's locks, four
// or so system calls, which on a virtual machine cost about as much as the statement itself; a call makes several
// such reads. Held exclusively, the locks are taken once: 0.86 of the CPU per VerifyPhone call in the bench (README,
// step 43). Exclusive mode keeps every other process out, so it is given up whenever another verifyd wants in.
// - Taking the file back must never wait: another process (the sqlite3 shell, say) may still be reading it. The
//   attempt runs without a busy timeout and, if the file is busy, goes back to sharing until the next look.
// - It runs between event-loop tasks, never inside a transaction (better-sqlite3's transactions are synchronous).
import type Database from "better-sqlite3";
import type { Logger } from "../../logger.js";
import { countOthersPresent, type Presence } from "./file-presence.js";

/** How often the server looks for other verifyd processes on its file: the longest an arriving one waits. */
export const lookEveryMs = 250;

export interface ExclusiveHolding {
  stop(): void;
}

export function holdExclusivelyWhileAlone(
  sqlite: Database.Database,
  database: string,
  own: Presence,
  logger?: Logger,
): ExclusiveHolding {
  let holding = false;
  const look = () => {
    try {
      if (!sqlite.open || sqlite.inTransaction) return;
      const others = countOthersPresent(own);
      if (others > 0 && holding) {
        share(sqlite);
        holding = false;
        logger?.info("database: shared with other verifyd processes", { database, others });
      } else if (others === 0 && !holding) {
        holding = tryToHold(sqlite, logger);
        if (holding) logger?.info("database: held exclusively", { database });
      }
    } catch (error) {
      // A look runs from a timer: whatever fails is logged, and the next look tries again.
      logger?.warn("database: could not look for other verifyd processes", { error: String(error) });
    }
  };
  // The first look a quarter second on, not during the start: a start that fails after opening says so in one line.
  const timer = setInterval(look, lookEveryMs).unref();
  return { stop: () => clearInterval(timer) };
}

function tryToHold(sqlite: Database.Database, logger?: Logger): boolean {
  const busyTimeout = sqlite.pragma("busy_timeout", { simple: true }) as number;
  sqlite.pragma("busy_timeout = 0");
  try {
    sqlite.pragma("locking_mode = EXCLUSIVE");
    // The exclusive mode takes the file's locks at the next write and keeps them from then on.
    sqlite.exec("BEGIN IMMEDIATE; COMMIT");
    return true;
  } catch (error) {
    const code = (error as { code?: string }).code ?? "";
    if (!code.startsWith("SQLITE_BUSY")) logger?.warn("database: could not hold the file exclusively", { error: String(error) });
    if (sqlite.inTransaction) sqlite.exec("ROLLBACK");
    share(sqlite);
    return false;
  } finally {
    sqlite.pragma(`busy_timeout = ${busyTimeout}`);
  }
}

/** SQLite drops the exclusive locks at the first access after the switch back, hence the read. */
function share(sqlite: Database.Database): void {
  sqlite.pragma("locking_mode = NORMAL");
  sqlite.pragma("schema_version");
}
