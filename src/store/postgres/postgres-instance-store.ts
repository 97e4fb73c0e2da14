// The instance row in PostgreSQL: whether this database was bootstrapped, and the lock under which it is done once
// by whichever of the processes sharing the database gets there first.
import type { InstanceStore } from "../../bootstrap/bootstrap-instance.js";
import type { PgDb } from "./open-postgres.js";
import { instance } from "./schema.js";

const instanceRowId = 1;
// pg_advisory_lock's key for bootstrapping and the admin-token command: a fixed number no other code locks ("vfyb" in
// ASCII; migrations lock "vfyd").
const bootstrapLockKey = 0x76667962;

export class PostgresInstanceStore implements InstanceStore {
  constructor(private readonly db: PgDb) {}

  /**
   * Runs `work` holding a session advisory lock, so another process's `exclusively` waits and then sees what this one
   * wrote. The stores `work` calls take connections of their own from the pool, so the lock lives on a connection
   * kept aside for it (a transaction there would not cover their writes): the pool needs room for both.
   */
  async exclusively<T>(work: () => Promise<T>): Promise<T> {
    const client = await this.db.$client.connect();
    let unlocked = false;
    try {
      await client.query("SELECT pg_advisory_lock($1)", [bootstrapLockKey]);
      try {
        return await work();
      } finally {
        await client.query("SELECT pg_advisory_unlock($1)", [bootstrapLockKey]);
        unlocked = true;
      }
    } finally {
      // A connection whose lock state is unknown is closed, not pooled: closing it releases whatever it holds.
      client.release(!unlocked);
    }
  }

  async isBootstrapped(): Promise<boolean> {
    return (await this.db.select({ id: instance.id }).from(instance).limit(1)).length > 0;
  }

  async administratorId(): Promise<string | undefined> {
    const [row] = await this.db.select({ adminUserId: instance.adminUserId }).from(instance).limit(1);
    return row?.adminUserId;
  }

  async markBootstrapped(adminUserId: string, at: Date): Promise<void> {
    await this.db.insert(instance).values({ id: instanceRowId, adminUserId, bootstrappedAt: at });
  }
}
