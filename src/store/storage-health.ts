// Whether the database's storage works. A failure of the storage itself (see isStorageFailure) becomes the domain's
// Unavailable instead of an internal error, and starts an episode: one error line, health NOT_SERVING, until a probe
// write succeeds (one info line). Only the probe ends an episode: on a nearly full disk small writes may succeed
// between failing large ones, which would otherwise start an episode (and a log line) per call. While an episode
// lasts, health checks and successful writes try the probe at most once per probe interval, so the server recovers
// by itself once the disk has room again. Operations and probes may be synchronous (SQLite) or return a promise
// (PostgreSQL); a probe's answer that arrives later counts for the next check.
import { errors } from "../domain/errors.js";
import type { Logger } from "../logger.js";
import { type StorageFailure, isStorageFailure, storageFailureSummary } from "./storage-failure.js";

export interface StorageGuard {
  /** Runs a store operation; a failure of the storage becomes Unavailable. */
  use<T>(operation: () => T): T;
  /** As `use`, for an operation that always writes: its success during an episode is a hint to probe again. */
  write<T>(operation: () => T): T;
}

export interface StorageHealth extends StorageGuard {
  /** False while writes fail; probes (rate-limited) whether they work again. */
  isHealthy(): boolean;
}

export interface StorageHealthOptions {
  logger: Logger;
  /** A cheap read, for checks while storage is healthy. */
  probeRead(): void | Promise<void>;
  /** A write as large as a large call's, for checks while it is not. */
  probeWrite(): void | Promise<void>;
  probeIntervalMs?: number;
  /**
   * What happened to the database's files, once their path no longer leads to them (SQLite's file-identity.ts): every
   * operation is then refused, since a write would succeed into a file that no name leads to, and no probe ends it.
   */
  lostFiles?: () => string | undefined;
  /** Milliseconds from a monotonic clock. */
  now?: () => number;
}

/** For stores used without a monitored database (tests, tools): failures are classified, but nobody is told. */
export const unmonitoredStorage: StorageGuard = {
  use: (operation) => classified(operation, () => undefined),
  write: (operation) => classified(operation, () => undefined),
};

export function createStorageHealth(options: StorageHealthOptions): StorageHealth {
  const { logger, probeRead, probeWrite } = options;
  const probeIntervalMs = options.probeIntervalMs ?? 1_000;
  const now = options.now ?? (() => performance.now());
  let failingSince: number | undefined;
  let lastProbeAt = Number.NEGATIVE_INFINITY;

  const fail = (error: StorageFailure) => {
    if (failingSince !== undefined) return;
    failingSince = now();
    logger.error("storage failing: calls answer Unavailable until writes work again", storageFailureSummary(error));
  };
  const recovered = () => {
    if (failingSince === undefined) return;
    logger.info("storage writes work again", { failedForMs: Math.round(now() - failingSince) });
    failingSince = undefined;
  };
  const lostFiles = options.lostFiles ?? (() => undefined);
  const use = <T>(operation: () => T): T => {
    const lost = lostFiles();
    if (lost === undefined) return classified(operation, fail);
    fail(Object.assign(new Error(lost), { code: "FILES_LOST" }));
    throw errors.storageUnavailable();
  };
  const probe = () => {
    if (now() - lastProbeAt < probeIntervalMs) return;
    lastProbeAt = now();
    settle(() => use(probeWrite), recovered);
  };

  return {
    use,
    write(operation) {
      const result = use(operation);
      if (failingSince !== undefined) probe();
      return result;
    },
    isHealthy() {
      if (failingSince !== undefined) probe();
      // A failure starts an episode; the answer below says so (at once when the read is synchronous).
      else settle(() => use(probeRead), () => undefined);
      return failingSince === undefined;
    },
  };
}

function classified<T>(operation: () => T, onStorageFailure: (error: StorageFailure) => void): T {
  const rethrow = (error: unknown): never => {
    if (!isStorageFailure(error)) throw error;
    onStorageFailure(error);
    throw errors.storageUnavailable();
  };
  let result: T;
  try {
    result = operation();
  } catch (error) {
    return rethrow(error);
  }
  // Drizzle's queries are thenables, not Promises.
  return isThenable(result) ? (Promise.resolve(result).catch(rethrow) as T) : result;
}

/** Runs a probe and calls `onSuccess` when it succeeds, now or later; a failure was already classified by `use`. */
function settle(probe: () => void | Promise<void>, onSuccess: () => void): void {
  try {
    const result = probe();
    if (isThenable(result)) Promise.resolve(result).then(onSuccess, () => undefined);
    else onSuccess();
  } catch {
    // Still failing: the episode goes on.
  }
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as PromiseLike<unknown> | undefined)?.then === "function";
}
