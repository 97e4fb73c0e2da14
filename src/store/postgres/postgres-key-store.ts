// The fingerprints of the keys this database has been used with (see src/crypto/keyring-guard.ts); read and written
// once at start by each process sharing the database.
import { sql } from "drizzle-orm";
import type { KeyRecords } from "../../crypto/keyring-guard.js";
import { type StorageGuard, unmonitoredStorage } from "../storage-health.js";
import type { PgDb } from "./open-postgres.js";
import { keys, users } from "./schema.js";

export class PostgresKeyStore implements KeyRecords {
  constructor(
    private readonly db: PgDb,
    private readonly storage: StorageGuard = unmonitoredStorage,
  ) {}

  async fingerprints(): Promise<ReadonlyMap<string, string>> {
    const rows = await this.storage.use(() => this.db.select({ id: keys.id, fingerprint: keys.fingerprint }).from(keys));
    return new Map(rows.map((row) => [row.id, row.fingerprint]));
  }

  async record(fingerprints: ReadonlyMap<string, string>, at: Date): Promise<void> {
    const rows = [...fingerprints].map(([id, fingerprint]) => ({ id, fingerprint, recordedAt: at }));
    if (rows.length === 0) return;
    // A process starting at the same moment may record an id first; its fingerprint stays, and the caller reads again.
    await this.storage.use(() => this.db.insert(keys).values(rows).onConflictDoNothing({ target: keys.id }));
  }

  async holdsData(): Promise<boolean> {
    const result = await this.storage.use(() =>
      this.db.execute<{ holds: boolean }>(sql`SELECT EXISTS (SELECT 1 FROM ${keys}) OR EXISTS (SELECT 1 FROM ${users}) AS holds`),
    );
    return result.rows[0]?.holds === true;
  }
}
