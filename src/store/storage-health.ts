// Whether the database's storage works. A failure of the storage itself (see isStorageFailure) becomes the domain's
// Unavailable instead of an internal error, and starts an episode: one error line, health NOT_SERVING, until a probe
// write succeeds (one info line). Only the probe ends an episode: on a nearly full disk small writes may succeed
// between failing large ones, which would otherwise start an episode (and a log line) per call. While an episode
// lasts, health checks and successful writes try the probe at most once per probe interval, so the server recovers
// by itself once the disk has room again.
import { errors } from "../domain/errors.js";
import type { Logger } from "../logger.js";
import { type SqliteFailure, isStorageFailure } from "./sqlite-errors.js";

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
  probeRead(): void;
  /** A write as large as a large call's, for checks while it is not. */
  probeWrite(): void;
  probeIntervalMs?: number;
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

  const fail = (error: SqliteFailure) => {
    if (failingSince !== undefined) return;
    failingSince = now();
    logger.error("storage failing: calls answer Unavailable until writes work again", { code: error.code, error: error.message });
  };
  const recovered = () => {
    if (failingSince === undefined) return;
    logger.info("storage writes work again", { failedForMs: Math.round(now() - failingSince) });
    failingSince = undefined;
  };
  const use = <T>(operation: () => T): T => classified(operation, fail);
  const probe = () => {
    if (now() - lastProbeAt < probeIntervalMs) return;
    lastProbeAt = now();
    try {
      use(probeWrite);
      recovered();
    } catch {
      // Still failing: the episode goes on.
    }
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
      else {
        try {
          use(probeRead);
        } catch {
          // The failure started an episode; the answer below says so.
        }
      }
      return failingSince === undefined;
    },
  };
}

function classified<T>(operation: () => T, onStorageFailure: (error: SqliteFailure) => void): T {
  try {
    return operation();
  } catch (error) {
    if (!isStorageFailure(error)) throw error;
    onStorageFailure(error);
    throw errors.storageUnavailable();
  }
}
