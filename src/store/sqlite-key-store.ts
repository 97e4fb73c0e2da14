// The fingerprints of the keys this database has been used with (see src/crypto/keyring-guard.ts); read and written
// once at start.
import { sql } from "drizzle-orm";
import type { Db } from "./open-database.js";
import { keys, users } from "./schema.js";
import { type StorageGuard, unmonitoredStorage } from "./storage-health.js";

export class SqliteKeyStore {
  constructor(
    private readonly db: Db,
    private readonly storage: StorageGuard = unmonitoredStorage,
  ) {}

  fingerprints(): ReadonlyMap<string, string> {
    const rows = this.storage.use(() => this.db.select({ id: keys.id, fingerprint: keys.fingerprint }).from(keys).all());
    return new Map(rows.map((row) => [row.id, row.fingerprint]));
  }

  record(fingerprints: ReadonlyMap<string, string>, at: Date): void {
    const rows = [...fingerprints].map(([id, fingerprint]) => ({ id, fingerprint, recordedAt: at }));
    if (rows.length === 0) return;
    this.storage.use(() => this.db.insert(keys).values(rows).onConflictDoNothing({ target: keys.id }).run());
  }

  /** Whether anything here was made with some keyring: recorded keys, or users from before keys were recorded. */
  holdsData(): boolean {
    return this.storage.use(
      () => this.db.get<{ holds: number }>(sql`SELECT EXISTS (SELECT 1 FROM ${keys}) OR EXISTS (SELECT 1 FROM ${users}) AS holds`).holds === 1,
    );
  }
}
