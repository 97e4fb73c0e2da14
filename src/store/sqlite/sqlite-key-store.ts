// The fingerprints of the keys this database has been used with (see src/crypto/keyring-guard.ts); read and written
// once at start.
import { sql } from "drizzle-orm";
import type { KeyRecords } from "../../crypto/keyring-guard.js";
import type { Db } from "./open-database.js";
import { keys, users } from "./schema.js";
import { type StorageGuard, unmonitoredStorage } from "../storage-health.js";

export class SqliteKeyStore implements KeyRecords {
  constructor(
    private readonly db: Db,
    private readonly storage: StorageGuard = unmonitoredStorage,
  ) {}

  async fingerprints(): Promise<ReadonlyMap<string, string>> {
    const rows = this.storage.use(() => this.db.select({ id: keys.id, fingerprint: keys.fingerprint }).from(keys).all());
    return new Map(rows.map((row) => [row.id, row.fingerprint]));
  }

  async record(fingerprints: ReadonlyMap<string, string>, at: Date): Promise<void> {
    const rows = [...fingerprints].map(([id, fingerprint]) => ({ id, fingerprint, recordedAt: at }));
    if (rows.length === 0) return;
    this.storage.use(() => this.db.insert(keys).values(rows).onConflictDoNothing({ target: keys.id }).run());
  }

  async holdsData(): Promise<boolean> {
    return this.storage.use(
      () => this.db.get<{ holds: number }>(sql`SELECT EXISTS (SELECT 1 FROM ${keys}) OR EXISTS (SELECT 1 FROM ${users}) AS holds`).holds === 1,
    );
  }
}
