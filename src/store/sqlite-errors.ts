// Recognizing constraint violations, which better-sqlite3 reports only as an error code and a message.
import { SqliteError } from "better-sqlite3";

/** A UNIQUE or PRIMARY KEY violation whose message names `what`, e.g. "events" or "users.username". */
export function isUniqueViolation(error: unknown, what: string): boolean {
  return (
    error instanceof SqliteError &&
    (error.code === "SQLITE_CONSTRAINT_UNIQUE" || error.code === "SQLITE_CONSTRAINT_PRIMARYKEY") &&
    error.message.includes(what)
  );
}
