// Opens the database the configuration names: a postgres:// or postgresql:// URL, or a SQLite file path.
import type { Logger } from "../logger.js";
import { isPostgresUrl } from "./database-url.js";
import { type OpenDatabaseOptions, openDatabase } from "./sqlite/open-database.js";
import { sqliteConnection } from "./sqlite/sqlite-stores.js";
import type { DatabaseConnection } from "./stores.js";

export interface OpenStoreOptions extends OpenDatabaseOptions {
  postgres?: { poolSize?: number; connectTimeoutMs?: number; statementTimeoutMs?: number };
  logger?: Logger;
}

export async function openStore(database: string, options: OpenStoreOptions = {}): Promise<DatabaseConnection> {
  if (isPostgresUrl(database)) {
    // Loaded only here: node-postgres and drizzle's PostgreSQL dialect are memory that a SQLite deployment never uses.
    const [{ openPostgres }, { postgresConnection }] = await Promise.all([
      import("./postgres/open-postgres.js"),
      import("./postgres/postgres-stores.js"),
    ]);
    const { postgres, logger, migrations } = options;
    const handle = await openPostgres(database, { ...postgres, ...(logger ? { logger } : {}), ...(migrations ? { migrations } : {}) });
    return postgresConnection(handle, database);
  }
  return sqliteConnection(openDatabase(database, options), database);
}
