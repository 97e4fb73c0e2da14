// A failure of the storage under either database, as opposed to a failure of the request.
import { DrizzleQueryError } from "drizzle-orm";
import { isSqliteBusy, isSqliteFailure } from "./sqlite/sqlite-errors.js";

export type StorageFailure = Error & { code?: string };

type ErrorTest = (error: unknown) => boolean;

// PostgreSQL's failures are told apart by node-postgres's own error class, so that dialect adds its tests when it is
// loaded (postgres-errors.ts): a deployment on SQLite never loads node-postgres (open-store.ts).
const failureTests: ErrorTest[] = [isSqliteFailure];
const busyTests: ErrorTest[] = [isSqliteBusy];

/** Adds a dialect's tests of what a failure of its storage is, and which of those failures only say it is busy. */
export function recognizeStorageFailures(failure: ErrorTest, busy: ErrorTest): void {
  if (!failureTests.includes(failure)) failureTests.push(failure);
  if (!busyTests.includes(busy)) busyTests.push(busy);
}

export function isStorageFailure(error: unknown): error is StorageFailure {
  return failureTests.some((test) => test(error));
}

/**
 * A storage failure that says the database is busy rather than failing: a statement that waited past its timeout on
 * a lock another session holds, or no connection to be had. It fails its call, but every instance on the database
 * would see the same, and calls that need no such lock go on working.
 */
export function isStorageBusy(error: unknown): boolean {
  return busyTests.some((test) => test(error));
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
