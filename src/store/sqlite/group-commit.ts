// Group commit: the writes that calls hand in during one turn of the event loop (a user's change, a security log entry)
// are committed together, in one SQLite transaction, so that one write's failure (a lost race, a limit, a taken
// username) undoes only that write. A commit (the WAL append, now and then a checkpoint) is most of what a small write
// costs and blocks the event loop while it runs, so under load one commit for many calls is the largest single saving
// measured in `npm run bench` (see the README's performance section). No call is answered before the commit holding
// its write.
//
// A savepoint per write would undo any failed write, but costs about twice what a small write does. Most writes that
// fail do so before their first change (a check that refuses) or in a single statement, which SQLite undoes by itself,
// so each write runs bare and SQLite's count of changed rows tells whether a failed one changed anything. Only then
// is the batch rolled back and run again with a savepoint per write, the write that changed rows before it failed
// being undone by its own.
import type Database from "better-sqlite3";
import type { Statement } from "better-sqlite3";
import { isSqliteFailure } from "./sqlite-errors.js";

/** Wraps each commit, for the storage health monitor. */
export type CommitGuard = <R>(operation: () => R) => R;

/** Runs `write` (statements that throw to undo themselves) in the next commit; resolves once it is committed. */
export type GroupCommit = (write: () => void) => Promise<void>;

interface Pending {
  write: () => void;
  resolve: () => void;
  reject: (reason: unknown) => void;
  failure: { error: unknown } | undefined;
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
  const changedRows = client.prepare("SELECT total_changes()").pluck() as Statement<[], number>;
  const bare = (write: () => void) => {
    const before = changedRows.get();
    try {
      write();
    } catch (error) {
      if (changedRows.get() !== before) throw new ChangedBeforeFailing();
      throw error;
    }
  };
  // better-sqlite3 runs a transaction function called inside another as a savepoint.
  const inSavepoint = client.transaction((write: () => void) => write());
  // Immediate, so that the write lock is held before the first write checks what it decided on.
  const commitEach = (run: (write: () => void) => void) =>
    client.transaction((batch: Pending[]) => {
      for (const pending of batch) {
        pending.failure = undefined;
        try {
          run(pending.write);
        } catch (error) {
          // A failing disk fails the whole batch: none of it may be acknowledged.
          if (isSqliteFailure(error) || error instanceof ChangedBeforeFailing) throw error;
          pending.failure = { error };
        }
      }
    }).immediate;
  const commitBare = commitEach(bare);
  const commitInSavepoints = commitEach(inSavepoint);
  const commitBatch = (batch: Pending[]) => {
    try {
      commitBare(batch);
    } catch (error) {
      if (!(error instanceof ChangedBeforeFailing)) throw error;
      commitInSavepoints(batch);
    }
  };

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
      queue.push({ write, resolve, reject, failure: undefined });
    });
}

/** A write failed after it changed rows that only a rollback of its whole batch can undo. */
class ChangedBeforeFailing extends Error {}
