// A failure of the storage under either database, as opposed to a failure of the request.
import { DrizzleQueryError } from "drizzle-orm";
import { isSqliteFailure } from "./sqlite/sqlite-errors.js";

export type StorageFailure = Error & { code?: string };

// PostgreSQL's failures are told apart by node-postgres's own error class, so that dialect adds its test when it is
// loaded (postgres-errors.ts): a deployment on SQLite never loads node-postgres (open-store.ts).
const failureTests: ((error: unknown) => boolean)[] = [isSqliteFailure];

/** Adds a dialect's test of what a failure of its storage is. */
export function recognizeStorageFailures(test: (error: unknown) => boolean): void {
  if (!failureTests.includes(test)) failureTests.push(test);
}

export function isStorageFailure(error: unknown): error is StorageFailure {
  return failureTests.some((test) => test(error));
}

/** The driver's error behind drizzle's wrapping. */
export function driverError(error: unknown): unknown {
  return error instanceof DrizzleQueryError ? error.cause : error;
}

/** What to log of a failure: the driver's code and message, never drizzle's wrapping, which lists the query's parameters. */
export function storageFailureSummary(error: StorageFailure): { code?: string; error: string } {
  const cause = driverError(error) as StorageFailure;
  return { ...(cause.code ? { code: cause.code } : {}), error: cause.message };
}
