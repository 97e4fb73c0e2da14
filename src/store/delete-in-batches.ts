// A purge of a large backlog (a retention lowered, a server back after days away) deleted every old row in one
// statement: on SQLite that held the process's one thread for seconds (a trial's 1.5 million old security log entries
// at 1,000,000 users: 7 s without even /healthz answered), and on PostgreSQL one statement could outlast the statement
// timeout, be cancelled, and never finish. Batches of a bounded size, with the event loop free between them, let calls
// in between, however large the backlog.
import { setImmediate as nextTurn } from "node:timers/promises";

/** A few milliseconds of deleting at a time. */
export const purgeBatchRows = 1_000;

/** Runs `deleteBatch` (which deletes at most its `limit` rows) until a batch finds fewer; returns the rows deleted in all. */
export async function deleteInBatches(deleteBatch: (limit: number) => number | Promise<number>): Promise<number> {
  let total = 0;
  for (;;) {
    const deleted = await deleteBatch(purgeBatchRows);
    total += deleted;
    if (deleted < purgeBatchRows) return total;
    await nextTurn();
  }
}
