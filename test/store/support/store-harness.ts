// One database of each dialect per test, for the store contract tests: every store behaviour runs against SQLite (a
// temporary file) and PostgreSQL (a database of its own on the test server), closed and removed when the test ends.
import { randomUUID } from "node:crypto";
import { onTestFinished } from "vitest";
import { openPostgres } from "../../../src/store/postgres/open-postgres.js";
import { postgresConnection } from "../../../src/store/postgres/postgres-stores.js";
import { openDatabase } from "../../../src/store/sqlite/open-database.js";
import { sqliteConnection } from "../../../src/store/sqlite/sqlite-stores.js";
import type { DatabaseConnection, Dialect, StoreOptions, Stores } from "../../../src/store/stores.js";
import { createPostgresDatabase } from "../../helpers/postgres-database.js";
import { tempDatabasePath } from "./temp-database.js";

export const dialects: readonly Dialect[] = ["sqlite", "postgres"];

export interface StoreHarness {
  dialect: Dialect;
  /** The file path or URL, to open again as another process would. */
  database: string;
  connection: DatabaseConnection;
  /** The stores, unmonitored, with random ids. */
  stores: Stores;
  /** Stores with other options (a lease, a storage guard). */
  storesWith(options: Partial<StoreOptions>): Stores;
  /** A raw statement's rows; `$1, $2, ...` placeholders in both dialects. Timestamps are numbers (ms) in SQLite, Dates in PostgreSQL. */
  rows<T = Record<string, unknown>>(text: string, params?: unknown[]): Promise<T[]>;
  count(table: string): Promise<number>;
  /** Another connection to the same database, closed when the test ends. */
  reopen(): Promise<StoreHarness>;
}

/** A new, migrated database of the dialect. */
export async function openStoreHarness(dialect: Dialect): Promise<StoreHarness> {
  return openExisting(dialect, dialect === "sqlite" ? tempDatabasePath() : await createPostgresDatabase());
}

async function openExisting(dialect: Dialect, database: string): Promise<StoreHarness> {
  let connection: DatabaseConnection;
  let rows: StoreHarness["rows"];
  if (dialect === "sqlite") {
    const handle = openDatabase(database);
    connection = sqliteConnection(handle, database);
    rows = async <T>(text: string, params: unknown[] = []) =>
      handle.sqlite.prepare(text.replace(/\$\d+/g, "?")).all(...params) as T[];
  } else {
    const handle = await openPostgres(database);
    connection = postgresConnection(handle, database);
    rows = async <T>(text: string, params: unknown[] = []) => (await handle.db.$client.query(text, params)).rows as T[];
  }
  onTestFinished(() => connection.close());
  const storesWith = (options: Partial<StoreOptions>) => connection.stores({ newId: randomUUID, ...options });
  return {
    dialect,
    database,
    connection,
    stores: storesWith({}),
    storesWith,
    rows,
    count: async (table) => Number((await rows<{ n: number | string }>(`SELECT count(*) AS n FROM ${table}`))[0]?.n ?? 0),
    reopen: () => openExisting(dialect, database),
  };
}
