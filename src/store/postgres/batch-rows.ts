// The rows of one purge batch (delete-in-batches.ts), for a DELETE's WHERE: PostgreSQL's DELETE takes no LIMIT, so the
// batch is the row addresses of the first matches, as an array so that the delete finds them by address (a TID scan)
// rather than by joining the whole table against them.
import { type SQL, sql } from "drizzle-orm";
import type { PgTable } from "drizzle-orm/pg-core";
import type { PgQueries } from "./postgres-limit-counter.js";

/** `ctid = ANY` the first `limit` rows matching `condition`. */
export function batchRows(db: PgQueries, table: PgTable, condition: SQL | undefined, limit: number): SQL {
  return sql`ctid = ANY(ARRAY(${db.select({ ctid: sql`ctid` }).from(table).where(condition).limit(limit)}))`;
}
