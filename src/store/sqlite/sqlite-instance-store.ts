// The instance row: whether this database was bootstrapped, and the write lock under which it is done exactly once.
import { sql } from "drizzle-orm";
import type { InstanceStore } from "../../bootstrap/bootstrap-instance.js";
import type { Db } from "./open-database.js";
import { instance } from "./schema.js";

const instanceRowId = 1;

export class SqliteInstanceStore implements InstanceStore {
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

  async isBootstrapped(): Promise<boolean> {
    return this.db.select({ one: sql`1` }).from(instance).get() !== undefined;
  }

  async administratorId(): Promise<string | undefined> {
    return this.db.select({ adminUserId: instance.adminUserId }).from(instance).get()?.adminUserId;
  }

  async markBootstrapped(adminUserId: string, at: Date): Promise<void> {
    this.db.insert(instance).values({ id: instanceRowId, adminUserId, bootstrappedAt: at }).run();
  }
}
