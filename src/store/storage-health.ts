// Whether the database's storage works. A failure of the storage itself (see isStorageFailure) becomes the domain's
// Unavailable instead of an internal error, and starts an episode: one error line, health NOT_SERVING, until a probe
// write succeeds (one info line). Only the probe ends an episode: on a nearly full disk small writes may succeed
// between failing large ones, which would otherwise start an episode (and a log line) per call. While an episode
// lasts, a probe runs once per probe interval (health checks and successful writes may bring it forward), so the
// server recovers by itself within about a second of the storage working again, whether or not anyone asks.
// A call failed by a busy database (isStorageBusy: a lock held past the statement timeout, no connection to be had)
// answers Unavailable too, but starts no episode: every instance on that database would report itself failing at once
// and leave a balancer none to send calls to, while calls that need no such lock go on working. A probe that fails
// for any reason starts one. Operations and probes may be synchronous (SQLite) or return a promise (PostgreSQL).
import { errors } from "../domain/errors.js";
import type { Logger } from "../logger.js";
import { coalesceRepeats } from "../log-repeats.js";
import { type StorageFailure, isStorageBusy, isStorageFailure, storageFailureSummary } from "./storage-failure.js";

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
const unheard: FailureOutcomes = { failing: () => undefined, busy: () => undefined };
export const unmonitoredStorage: StorageGuard = {
  use: (operation) => classified(operation, unheard),
  write: (operation) => classified(operation, unheard),
};

export function createStorageHealth(options: StorageHealthOptions): StorageHealth {
  const { logger, probeRead, probeWrite } = options;
  const probeIntervalMs = options.probeIntervalMs ?? 1_000;
  const now = options.now ?? (() => performance.now());
  let failingSince: number | undefined;
  let lastProbeAt = Number.NEGATIVE_INFINITY;
  let probing: NodeJS.Timeout | undefined;

  const fail = (error: StorageFailure) => {
    if (failingSince !== undefined) return;
    failingSince = now();
    logger.error("storage failing: calls answer Unavailable until writes work again", storageFailureSummary(error));
    // Unref'd: probing must not keep a stopping process alive.
    probing = setInterval(probe, probeIntervalMs).unref();
  };
  const recovered = () => {
    if (failingSince === undefined) return;
    logger.info("storage writes work again", { failedForMs: Math.round(now() - failingSince) });
    failingSince = undefined;
    clearInterval(probing);
  };
  const busy = coalesceRepeats<StorageFailure>(
    (error, occurrences) =>
      logger.warn("storage busy: a call answered Unavailable, the database did not answer it in time", {
        ...storageFailureSummary(error),
        count: occurrences,
      }),
    { intervalMs: 60_000, maxKeys: 1 },
  );
  const outcomes = { failing: fail, busy: (error: StorageFailure) => busy("", error) };
  const probeOutcomes = { failing: fail, busy: fail };
  const lostFiles = options.lostFiles ?? (() => undefined);
  const guarded = <T>(operation: () => T, onFailure: FailureOutcomes): T => {
    const lost = lostFiles();
    if (lost === undefined) return classified(operation, onFailure);
    fail(Object.assign(new Error(lost), { code: "FILES_LOST" }));
    throw errors.storageUnavailable();
  };
  const use = <T>(operation: () => T): T => guarded(operation, outcomes);
  function probe() {
    if (now() - lastProbeAt < probeIntervalMs) return;
    lastProbeAt = now();
    settle(() => guarded(probeWrite, probeOutcomes), recovered);
  }

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
      else settle(() => guarded(probeRead, probeOutcomes), () => undefined);
      return failingSince === undefined;
    },
  };
}

interface FailureOutcomes {
  failing(error: StorageFailure): void;
  busy(error: StorageFailure): void;
}

function classified<T>(operation: () => T, outcomes: FailureOutcomes): T {
  const rethrow = (error: unknown): never => {
    if (!isStorageFailure(error)) throw error;
    if (isStorageBusy(error)) {
      outcomes.busy(error);
      throw errors.storageBusy();
    }
    outcomes.failing(error);
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
