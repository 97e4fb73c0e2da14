// Recognizing PostgreSQL failures: node-postgres reports the server's SQLSTATE in `code`, a socket's failure with
// Node's errno code, and its own pool and connection timeouts by message alone. Drizzle wraps each of them in a
// DrizzleQueryError naming the query; the driver's error is its cause.
import { DatabaseError } from "pg";
import { driverError, recognizeStorageFailures } from "../storage-failure.js";

/** A UNIQUE or PRIMARY KEY violation of the named constraint or index. */
export function isUniqueViolation(error: unknown, constraint: string): boolean {
  const cause = driverError(error);
  return cause instanceof DatabaseError && cause.code === "23505" && cause.constraint === constraint;
}

/** A FOREIGN KEY violation of the named constraint: a row naming another that is gone. */
export function isForeignKeyViolation(error: unknown, constraint: string): boolean {
  const cause = driverError(error);
  return cause instanceof DatabaseError && cause.code === "23503" && cause.constraint === constraint;
}

// SQLSTATE classes and codes that say the server or the connection failed, not the statement: connection exceptions
// (08), a server that takes no writes (25006: a standby after a failover; verifyd never asks for a read-only
// transaction itself), a login refused (28: a password rotated under running processes), the database gone (3D000),
// insufficient resources such as a full disk (53), the database not in a state to serve (55: closed to new connections
// by an operator, or a lock not available), operator intervention such as a restart or a cancelled statement_timeout
// (57), system errors (58) and internal errors such as data corruption (XX).
const serverFailure = /^(08|25006|28|3D000|53|55|57|58|XX)/;
const socketFailures = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EPIPE", "EHOSTUNREACH", "ENETUNREACH", "ENOTFOUND", "EAI_AGAIN"]);
const clientFailure = /Connection terminated|connection timeout|timeout exceeded when trying to connect|not queryable|Query read timeout|Client was closed/i;

/** A statement the server did not answer within the client's `query_timeout` (open-postgres.ts). */
export function isReadTimeout(error: unknown): boolean {
  const cause = driverError(error);
  return cause instanceof Error && cause.message === "Query read timeout";
}

/**
 * The server cancelled the statement (57014): past a statement timeout, or at an operator's request. Where a caller's
 * query set the timeout (a list's), that is the caller's doing, not a failing server.
 */
export function isStatementCancelled(error: unknown): boolean {
  const cause = driverError(error);
  return cause instanceof DatabaseError && cause.code === "57014";
}

/** The server unreachable, restarting, out of room or broken, or a statement past its timeout. */
export function isPostgresFailure(wrapped: unknown): wrapped is Error & { code?: string } {
  const error = driverError(wrapped);
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === "string") {
    if (error instanceof DatabaseError) return serverFailure.test(code);
    if (socketFailures.has(code)) return true;
  }
  return clientFailure.test(error.message);
}

// A statement cancelled at its timeout (57014, mostly waiting on a lock), a lock not available (55P03), no connection
// slot left on the server (53300), or none free in the pool nor a new one made within the connect timeout.
const busyCodes = new Set(["57014", "55P03", "53300"]);
const poolWait = /timeout exceeded when trying to connect/i;

/** A failure that says the server is busy (see isStorageBusy), not that it is gone. */
export function isPostgresBusy(wrapped: unknown): boolean {
  const error = driverError(wrapped);
  if (error instanceof DatabaseError) return busyCodes.has(error.code ?? "");
  return error instanceof Error && poolWait.test(error.message);
}

// Storage health classifies with them from the moment this dialect is loaded (storage-failure.ts).
recognizeStorageFailures(isPostgresFailure, isPostgresBusy);
