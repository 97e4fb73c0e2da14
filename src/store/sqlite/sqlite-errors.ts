// Recognizing SQLite failures, which better-sqlite3 reports only as an error code and a message.
import { SqliteError } from "better-sqlite3";

/** A UNIQUE or PRIMARY KEY violation whose message names `what`, e.g. "events" or "users.username". */
export function isUniqueViolation(error: unknown, what: string): boolean {
  return (
    error instanceof SqliteError &&
    (error.code === "SQLITE_CONSTRAINT_UNIQUE" || error.code === "SQLITE_CONSTRAINT_PRIMARYKEY") &&
    error.message.includes(what)
  );
}

/** A FOREIGN KEY violation: a row naming another that is gone, such as a token for a user deleted meanwhile. */
export function isForeignKeyViolation(error: unknown): boolean {
  return error instanceof SqliteError && error.code === "SQLITE_CONSTRAINT_FOREIGNKEY";
}

export type SqliteFailure = InstanceType<typeof SqliteError>;

// Primary result codes; extended codes (SQLITE_IOERR_WRITE, SQLITE_CORRUPT_INDEX, ...) start with one of them.
// SQLITE_BUSY reaches us only once busy_timeout has run out.
const storageFailures = ["SQLITE_FULL", "SQLITE_IOERR", "SQLITE_CORRUPT", "SQLITE_NOTADB", "SQLITE_CANTOPEN", "SQLITE_READONLY", "SQLITE_BUSY"];

/** A failure of the storage under the database (full disk, I/O error, damage, permissions, a lock held too long), not of the request. */
export function isSqliteFailure(error: unknown): error is SqliteFailure {
  return (
    error instanceof SqliteError &&
    storageFailures.some((code) => error.code === code || error.code.startsWith(`${code}_`))
  );
}

/** Another process held the write lock past busy_timeout. */
export function isSqliteBusy(error: unknown): boolean {
  return error instanceof SqliteError && (error.code === "SQLITE_BUSY" || error.code.startsWith("SQLITE_BUSY_"));
}
