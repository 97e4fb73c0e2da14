// The instance row: whether this database was bootstrapped, and the write lock under which it is done exactly once.
import { sql } from "drizzle-orm";
import type { Db } from "./open-database.js";
import { instance } from "./schema.js";

const instanceRowId = 1;

export class SqliteInstanceStore {
  constructor(private readonly db: Db) {}

  /**
   * Runs `work` inside BEGIN IMMEDIATE ... COMMIT: the write lock is held from the first read, so another process
   * starting on the same file waits (busy_timeout) and then sees what this one committed. Nothing else may use the
   * connection meanwhile; the stores' own transactions nest as savepoints.
   */
  async exclusively<T>(work: () => Promise<T>): Promise<T> {
    const sqlite = this.db.$client;
    sqlite.exec("BEGIN IMMEDIATE");
    try {
      const result = await work();
      sqlite.exec("COMMIT");
      return result;
    } catch (error) {
      if (sqlite.inTransaction) sqlite.exec("ROLLBACK");
      throw error;
    }
  }

  isBootstrapped(): boolean {
    return this.db.select({ one: sql`1` }).from(instance).get() !== undefined;
  }

  /** The IAM_OWNER service account the first start created; undefined before it. */
  administratorId(): string | undefined {
    return this.db.select({ adminUserId: instance.adminUserId }).from(instance).get()?.adminUserId;
  }

  markBootstrapped(adminUserId: string, at: Date): void {
    this.db.insert(instance).values({ id: instanceRowId, adminUserId, bootstrappedAt: at }).run();
  }
}
