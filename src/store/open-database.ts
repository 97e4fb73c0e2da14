// Opens the one SQLite file the service keeps everything in, and brings its schema up to date.
import { closeSync, mkdirSync, openSync } from "node:fs";
import { dirname, join } from "node:path";
import Database from "better-sqlite3";
import { type BetterSQLite3Database, drizzle } from "drizzle-orm/better-sqlite3";
import { migrate } from "drizzle-orm/better-sqlite3/migrator";

export type Db = BetterSQLite3Database & { $client: Database.Database };

export interface DatabaseHandle {
  db: Db;
  sqlite: Database.Database;
  /** Whether the file can be read right now; for health checks. */
  isReadable(): boolean;
  close(): void;
}

const migrationsFolder = join(import.meta.dirname, "migrations");

export function openDatabase(path: string): DatabaseHandle {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  // The file holds names, phone numbers and emails: owner-only. SQLite gives its -wal and -shm files the same mode.
  closeSync(openSync(path, "a", 0o600));
  const sqlite = new Database(path);
  // First, so that a second process on the file waits for locks, even for the switch to WAL, instead of failing.
  sqlite.pragma("busy_timeout = 5000");
  sqlite.pragma("journal_mode = WAL");
  sqlite.pragma("synchronous = NORMAL");
  sqlite.pragma("foreign_keys = ON");
  const db = drizzle(sqlite);
  migrateConcurrently(db);
  const probe = sqlite.prepare("SELECT count(*) FROM organizations");
  const isReadable = () => {
    try {
      probe.get();
      return true;
    } catch {
      return false;
    }
  };
  return { db, sqlite, isReadable, close: () => sqlite.close() };
}

/**
 * Drizzle's migrator reads which migrations are applied before it opens its transaction, so when two processes
 * start at once both may set out to apply the same ones. The loser fails (a table already exists, or its snapshot
 * went stale) and rolls back; by then the winner has committed, so running again finds nothing left to do.
 */
function migrateConcurrently(db: Db, attempts = 3): void {
  for (let attempt = 1; ; attempt++) {
    try {
      migrate(db, { migrationsFolder });
      return;
    } catch (error) {
      if (attempt >= attempts) throw error;
    }
  }
}
