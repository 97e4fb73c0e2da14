// Which of this build's migrations the database lacks, judged as drizzle's migrator judges it: a migration counts as
// applied when the newest one recorded is at least as new. Migrations run at start, so a running server finds one
// missing only when the schema went back under it (an older backup restored into the file it has open); its queries
// then expect tables and columns the file does not have, and it must not take calls.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type Database from "better-sqlite3";

export const migrationsFolder = join(import.meta.dirname, "migrations");

/** One of this build's migrations, as drizzle-kit's journal names and dates it. */
export interface Migration {
  tag: string;
  createdAt: number;
}

/** This build's migrations, oldest first (the journal drizzle's migrator reads too). */
export function buildMigrations(): Migration[] {
  const journal = JSON.parse(readFileSync(join(migrationsFolder, "meta", "_journal.json"), "utf8")) as {
    entries: { tag: string; when: number }[];
  };
  return journal.entries.map((entry) => ({ tag: entry.tag, createdAt: entry.when }));
}

/** Lists, on each call, this build's migrations that the database has not applied (all of them in a new file). */
export function createPendingMigrations(sqlite: Database.Database): () => Migration[] {
  const carried = buildMigrations();
  const recorded = sqlite
    .prepare<[], unknown>("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '__drizzle_migrations'")
    .get();
  if (recorded === undefined) return () => carried;
  const newestApplied = sqlite.prepare<[], { newest: number | null }>(
    "SELECT max(created_at) AS newest FROM __drizzle_migrations",
  );
  return () => {
    const newest = Number(newestApplied.get()?.newest ?? Number.NEGATIVE_INFINITY);
    return carried.filter((migration) => migration.createdAt > newest);
  };
}
