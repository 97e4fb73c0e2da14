// The rows of one purge batch (delete-in-batches.ts), for a DELETE's WHERE: SQLite's DELETE takes no LIMIT unless it
// was built with an option, so the batch is the rowids of the first matches.
import { type SQL, sql } from "drizzle-orm";
import type { SQLiteTable } from "drizzle-orm/sqlite-core";
import type { Db } from "./open-database.js";

/** `rowid IN` the first `limit` rows matching `condition`; for a table with rowids. */
export function batchRows(db: Db, table: SQLiteTable, condition: SQL | undefined, limit: number): SQL {
  return sql`rowid IN (${db.select({ rowid: sql`rowid` }).from(table).where(condition).limit(limit)})`;
}
