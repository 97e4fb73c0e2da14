// Which of this build's migrations the database lacks, judged as drizzle's migrator judges it: a migration counts as
// applied when the newest one recorded is at least as new. Migrations run at start, so a running server finds one
// missing only when the schema went back under it (an older backup restored into the file it has open); its queries
// then expect tables and columns the file does not have, and it must not take calls.
import { join } from "node:path";
import type Database from "better-sqlite3";
import { type Migration, buildMigrations, pendingAfter, refuseNewerSchema } from "../migration-journal.js";

export const migrationsFolder = join(import.meta.dirname, "migrations");

/**
 * Lists, on each call, this build's migrations that the database has not applied (all of them in a new file).
 * Refuses at once a database a newer version migrated.
 */
export function createPendingMigrations(sqlite: Database.Database): () => Migration[] {
  const carried = buildMigrations(migrationsFolder);
  const recorded = sqlite
    .prepare<[], unknown>("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '__drizzle_migrations'")
    .get();
  if (recorded === undefined) return () => carried;
  const newestApplied = sqlite.prepare<[], { newest: number | null }>(
    "SELECT max(created_at) AS newest FROM __drizzle_migrations",
  );
  const newest = () => {
    const value = newestApplied.get()?.newest;
    return value === null || value === undefined ? undefined : Number(value);
  };
  refuseNewerSchema(carried, newest(), sqlite.name);
  return () => pendingAfter(carried, newest());
}
