// This build's migrations of one dialect, as drizzle-kit's journal names and dates them. Drizzle's migrator counts a
// migration as applied when the newest one recorded in the database is at least as new.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { StartupError } from "../startup-error.js";

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

/**
 * Refuses a database a newer version of verifyd migrated: drizzle's migrator would find nothing to apply and this
 * version would run on a schema it does not know, writing what the newer one's rules forbid (say, a verified address
 * in another case than the newer one looks it up by), with nothing to say so afterwards.
 */
export function refuseNewerSchema(carried: readonly Migration[], newestApplied: number | undefined, where: string): void {
  const newestCarried = carried.at(-1);
  if (newestApplied === undefined || newestCarried === undefined || newestApplied <= newestCarried.createdAt) return;
  throw new StartupError(
    `the database ${where} was migrated by a newer version of verifyd (a migration of ${new Date(newestApplied).toISOString()}, ` +
      `after this version's newest, ${newestCarried.tag}); run that version, or restore a backup taken before the upgrade`,
  );
}

/** Those of `carried` newer than the newest applied one (all of them when none is). */
export function pendingAfter(carried: readonly Migration[], newestApplied: number | undefined): Migration[] {
  return carried.filter((migration) => newestApplied === undefined || migration.createdAt > newestApplied);
}
