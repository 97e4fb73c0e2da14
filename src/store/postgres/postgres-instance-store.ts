// The instance row in PostgreSQL: whether this database was bootstrapped, and the lock under which it is done once
// by whichever of the processes sharing the database gets there first.
import type { InstanceStore } from "../../bootstrap/bootstrap-instance.js";
import type { PgDb } from "./open-postgres.js";
import { withSessionLock } from "./session-lock.js";
import { instance } from "./schema.js";

const instanceRowId = 1;
// pg_advisory_lock's key for bootstrapping and the admin-token command: a fixed number no other code locks ("vfyb" in
// ASCII; migrations lock "vfyd").
const bootstrapLockKey = 0x76667962;

export class PostgresInstanceStore implements InstanceStore {
  constructor(private readonly db: PgDb) {}

  /** Runs `work` while no other process's `exclusively` runs: a second one waits, then sees what this one wrote. */
  async exclusively<T>(work: () => Promise<T>): Promise<T> {
    return withSessionLock(this.db.$client, bootstrapLockKey, work);
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
