// Which of this build's migrations the database lacks, judged as drizzle's migrator judges it: a migration counts as
// applied when the newest one recorded is at least as new. Migrations run at start, so a running server finds one
// missing only when the schema went back under it (an older backup restored into the file it has open); its queries
// then expect tables and columns the file does not have, and it must not take calls.
import { join } from "node:path";
import type Database from "better-sqlite3";
import { readMigrationFiles } from "drizzle-orm/migrator";

export const migrationsFolder = join(import.meta.dirname, "migrations");

/** Counts, on each call, this build's migrations that the database has not applied; needs the migrations table. */
export function createPendingMigrationCount(sqlite: Database.Database): () => number {
  const carried = readMigrationFiles({ migrationsFolder }).map((migration) => migration.folderMillis);
  const newestApplied = sqlite.prepare<[], { newest: number | null }>(
    "SELECT max(created_at) AS newest FROM __drizzle_migrations",
  );
  return () => {
    const newest = Number(newestApplied.get()?.newest ?? Number.NEGATIVE_INFINITY);
    return carried.filter((createdAt) => createdAt > newest).length;
  };
}
