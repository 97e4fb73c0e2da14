// A transaction on one connection of the pool, for statements sent by name (named-statement.ts). A connection that
// cannot even roll back, or that stopped answering, failed mid-transaction: it is closed rather than returned to the
// pool for the next call.
import type pg from "pg";
import { isReadTimeout } from "./postgres-errors.js";

export async function inTransaction<T>(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    await client.query("BEGIN");
    const result = await work(client);
    await client.query("COMMIT");
    return result;
  } catch (error) {
    // A connection that stopped answering would keep ROLLBACK waiting as long again: closing it rolls back.
    if (isReadTimeout(error)) broken = error as Error;
    else await client.query("ROLLBACK").catch((rollbackFailure: Error) => void (broken = rollbackFailure));
    throw error;
  } finally {
    client.release(broken);
  }
}
