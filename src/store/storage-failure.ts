// A failure of the storage under either database, as opposed to a failure of the request.
import { driverError, isPostgresFailure } from "./postgres/postgres-errors.js";
import { isSqliteFailure } from "./sqlite/sqlite-errors.js";

export type StorageFailure = Error & { code?: string };

export function isStorageFailure(error: unknown): error is StorageFailure {
  return isSqliteFailure(error) || isPostgresFailure(error);
}

/** What to log of a failure: the driver's code and message, never drizzle's wrapping, which lists the query's parameters. */
export function storageFailureSummary(error: StorageFailure): { code?: string; error: string } {
  const cause = driverError(error) as StorageFailure;
  return { ...(cause.code ? { code: cause.code } : {}), error: cause.message };
}
