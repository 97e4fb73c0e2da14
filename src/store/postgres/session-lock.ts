// Work that processes sharing the database must do one at a time (migrating, bootstrapping), under a session advisory
// lock. The stores the work uses take connections of their own from the pool, so the lock lives on a connection kept
// aside for it (a transaction there would not cover their writes): the pool needs room for both.
import type pg from "pg";

/** No read timeout for the lock's wait: the largest a timer takes (about 24 days; node-postgres reads 0 as unset). */
const waitForever = 2 ** 31 - 1;

export async function withSessionLock<T>(pool: pg.Pool, key: number, work: () => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    // The wait for the lock is no statement to cut short: another process may be migrating a large database.
    await client.query("SET statement_timeout = 0");
    // node-postgres reads a query's own query_timeout; its types know only the pool's.
    const lock: pg.QueryConfig & { query_timeout: number } = { text: "SELECT pg_advisory_lock($1)", values: [key], query_timeout: waitForever };
    await client.query(lock);
    return await work();
  } finally {
    // Closed rather than pooled: closing releases the lock and the session setting whatever happened above.
    client.release(true);
  }
}
