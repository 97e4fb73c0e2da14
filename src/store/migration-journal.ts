// This build's migrations of one dialect, as drizzle-kit's journal names and dates them. Drizzle's migrator counts a
// migration as applied when the newest one recorded in the database is at least as new.
import { readFileSync } from "node:fs";
import { join } from "node:path";

export interface Migration {
  tag: string;
  createdAt: number;
}

/** The migrations in `folder`, oldest first (the journal drizzle's migrator reads too). */
export function buildMigrations(folder: string): Migration[] {
  const journal = JSON.parse(readFileSync(join(folder, "meta", "_journal.json"), "utf8")) as {
    entries: { tag: string; when: number }[];
  };
  return journal.entries.map((entry) => ({ tag: entry.tag, createdAt: entry.when }));
}

/** Those of `carried` newer than the newest applied one (all of them when none is). */
export function pendingAfter(carried: readonly Migration[], newestApplied: number | undefined): Migration[] {
  return carried.filter((migration) => newestApplied === undefined || migration.createdAt > newestApplied);
}
