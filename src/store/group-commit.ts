// Group commit: the writes that calls hand in during one turn of the event loop are committed together, in one SQLite
// transaction, each in a savepoint of its own so that one write's failure (a lost race, a limit, a taken username)
// undoes only that write. A commit (the WAL append, now and then a checkpoint) is most of what a small write costs and
// blocks the event loop while it runs, so under load one commit for many calls is the largest single saving measured
// in `npm run bench` (see the README's performance section). No call is answered before the commit holding its write.
import type Database from "better-sqlite3";
import { isStorageFailure } from "./sqlite-errors.js";

export interface GroupCommitOptions<T> {
  /** Runs one write's statements; throws to undo them. */
  write: (item: T) => void;
  /** Wraps each commit, for the storage health monitor. */
  guard: <R>(operation: () => R) => R;
}

interface Pending<T> {
  item: T;
  resolve: () => void;
  reject: (reason: unknown) => void;
  failure?: { error: unknown };
}

/** Returns a function that resolves once its item is committed, or rejects with what its write threw. */
export function createGroupCommit<T>(client: Database.Database, options: GroupCommitOptions<T>): (item: T) => Promise<void> {
  // better-sqlite3 runs a transaction function called inside another as a savepoint.
  const inSavepoint = client.transaction(options.write);
  // Immediate, so that the write lock is held before the first write checks what it decided on.
  const commitBatch = client.transaction((batch: Pending<T>[]) => {
    for (const pending of batch) {
      try {
        inSavepoint(pending.item);
      } catch (error) {
        // A failing disk fails the whole batch: none of it may be acknowledged.
        if (isStorageFailure(error)) throw error;
        pending.failure = { error };
      }
    }
  }).immediate;

  let queue: Pending<T>[] = [];
  const flush = () => {
    const batch = queue;
    queue = [];
    try {
      options.guard(() => commitBatch(batch));
    } catch (error) {
      for (const pending of batch) pending.reject(error);
      return;
    }
    for (const pending of batch) {
      if (pending.failure) pending.reject(pending.failure.error);
      else pending.resolve();
    }
  };

  return (item) =>
    new Promise<void>((resolve, reject) => {
      // setImmediate rather than a microtask: it runs after every request the current poll phase delivered.
      if (queue.length === 0) setImmediate(flush);
      queue.push({ item, resolve, reject });
    });
}
