// `verifyd migrate`: brings the database's schema up to this version, as a server's start would, and says what it
// applied; with --check, changes nothing and exits 1 while migrations are pending (for a deployment to decide on).
import { isPostgresUrl, redactedUrl } from "../store/database-url.js";
import type { Migration } from "../store/migration-journal.js";
import { openStore } from "../store/open-store.js";
import { pendingPostgresMigrations } from "../store/postgres/open-postgres.js";
import { createPendingMigrations } from "../store/sqlite/migration-status.js";
import { openConnection } from "../store/sqlite/open-database.js";
import type { CommandDefinition } from "./command.js";
import { parseCommandLine } from "./command-line.js";

export const migrateCommand: CommandDefinition<"database" | "skipIntegrityCheck"> = {
  description: [
    "A server applies pending migrations when it starts; this applies them beforehand (to time the upgrade, or to",
    "see it succeed), and creates the database if there is none. Take a backup first (verifyd backup): an older",
    "version cannot use the upgraded file. Servers of the older version still running on the file should be",
    "stopped first.",
    "",
    "With --check it changes nothing, creates nothing, lists the pending migrations and exits 1 if there are any,",
    "0 if there are none.",
  ].join("\n"),
  flags: { check: { type: "boolean", description: "List pending migrations without applying them; exit 1 if there are any." } },
  settings: ["database", "skipIntegrityCheck"],
  async run(args, env) {
    const { settings, flags } = parseCommandLine(migrateCommand, args, env);
    if (flags.check) return check(settings.database);
    const database = await openStore(settings.database, { integrityCheck: !settings.skipIntegrityCheck });
    const migrations = database.appliedMigrations;
    await database.close();
    for (const tag of migrations) process.stdout.write(`applied ${tag}\n`);
    process.stdout.write(`${database.location} is up to date${migrations.length === 0 ? "; nothing to apply" : ""}\n`);
    return 0;
  },
};

async function check(database: string): Promise<number> {
  const pending = isPostgresUrl(database) ? await pendingPostgresMigrations(database) : pendingSqliteMigrations(database);
  const where = isPostgresUrl(database) ? redactedUrl(database) : database;
  for (const migration of pending) process.stdout.write(`pending ${migration.tag}\n`);
  process.stdout.write(
    pending.length === 0 ? `${where} is up to date\n` : `${where} lacks ${pending.length} migration(s); apply them with verifyd migrate\n`,
  );
  return pending.length === 0 ? 0 : 1;
}

function pendingSqliteMigrations(path: string): Migration[] {
  const connection = openConnection(path, { create: false });
  try {
    return createPendingMigrations(connection.sqlite)();
  } finally {
    connection.close();
  }
}
