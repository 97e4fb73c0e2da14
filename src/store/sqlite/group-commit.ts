// Group commit: the writes that calls hand in during one turn of the event loop (a user's change, a security log entry)
// are committed together, in one SQLite transaction, each in a savepoint of its own so that one write's failure (a
// lost race, a limit, a taken username) undoes only that write. A commit (the WAL append, now and then a checkpoint)
// is most of what a small write costs and blocks the event loop while it runs, so under load one commit for many
// calls is the largest single saving measured in `npm run bench` (see the README's performance section). No call is
// answered before the commit holding its write.
import type Database from "better-sqlite3";
import { isSqliteFailure } from "./sqlite-errors.js";

/** Wraps each commit, for the storage health monitor. */
export type CommitGuard = <R>(operation: () => R) => R;

/** Runs `write` (statements that throw to undo themselves) in the next commit; resolves once it is committed. */
export type GroupCommit = (write: () => void) => Promise<void>;

interface Pending {
  write: () => void;
  resolve: () => void;
  reject: (reason: unknown) => void;
  failure?: { error: unknown };
}

// One committer per connection (and guard), shared by the stores that write through it.
const committers = new WeakMap<Database.Database, WeakMap<CommitGuard, GroupCommit>>();

export function groupCommitFor(client: Database.Database, guard: CommitGuard): GroupCommit {
  const byGuard = committers.get(client) ?? new WeakMap<CommitGuard, GroupCommit>();
  committers.set(client, byGuard);
  const existing = byGuard.get(guard);
  if (existing) return existing;
  const created = createGroupCommit(client, guard);
  byGuard.set(guard, created);
  return created;
}

function createGroupCommit(client: Database.Database, guard: CommitGuard): GroupCommit {
  // better-sqlite3 runs a transaction function called inside another as a savepoint.
  const inSavepoint = client.transaction((write: () => void) => write());
  // Immediate, so that the write lock is held before the first write checks what it decided on.
  const commitBatch = client.transaction((batch: Pending[]) => {
    for (const pending of batch) {
      try {
        inSavepoint(pending.write);
      } catch (error) {
        // A failing disk fails the whole batch: none of it may be acknowledged.
        if (isSqliteFailure(error)) throw error;
        pending.failure = { error };
      }
    }
  }).immediate;

  let queue: Pending[] = [];
  const flush = () => {
    const batch = queue;
    queue = [];
    try {
      guard(() => commitBatch(batch));
    } catch (error) {
      for (const pending of batch) pending.reject(error);
      return;
    }
    for (const pending of batch) {
      if (pending.failure) pending.reject(pending.failure.error);
      else pending.resolve();
    }
  };

  return (write) =>
    new Promise<void>((resolve, reject) => {
      // setImmediate rather than a microtask: it runs after every request the current poll phase delivered.
      if (queue.length === 0) setImmediate(flush);
      queue.push({ write, resolve, reject });
    });
}
