// A file that opens and has its migrations may still lack one of verifyd's tables (dropped by hand, or a file of
// another program): every call that touches it would then fail with a bare "no such table". Refused at open instead,
// naming the file and the table.
import type Database from "better-sqlite3";
import { getTableName, is } from "drizzle-orm";
import { SQLiteTable } from "drizzle-orm/sqlite-core";
import { StartupError } from "../../startup-error.js";
import * as schema from "./schema.js";

const migrationsTable = "__drizzle_migrations";

const schemaTables = Object.values(schema)
  .filter((value) => is(value, SQLiteTable))
  .map((table) => getTableName(table));

/**
 * Before the migrations: a file with tables but without the migrations' record would have every migration run on it
 * again, which fails on the first table that exists. A new, empty file has no tables at all.
 */
export function refuseUnrecordedSchema(sqlite: Database.Database, path: string): void {
  const tables = tableNames(sqlite);
  if (tables.size > 0 && !tables.has(migrationsTable)) throw lacksTable(path, migrationsTable);
}

/** After the migrations: every table the schema declares. */
export function refuseMissingTables(sqlite: Database.Database, path: string): void {
  const tables = tableNames(sqlite);
  const missing = schemaTables.find((table) => !tables.has(table));
  if (missing !== undefined) throw lacksTable(path, missing);
}

function tableNames(sqlite: Database.Database): Set<string> {
  const names = sqlite
    .prepare<[], string>("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'")
    .pluck()
    .all();
  return new Set(names);
}

function lacksTable(path: string, table: string): StartupError {
  return new StartupError(
    `the database ${path} lacks table ${table}: it is damaged or not verifyd's; restore it from a backup (README, Backups)`,
  );
}
