// Password logins in PostgreSQL: users found by their login names (the lookup columns of the users projection), and
// the failure count per login name, kept across restarts and shared by every process on the database.
import { type SQL, and, eq, gt, lt, or, sql } from "drizzle-orm";
import type { LoginName } from "../../domain/credentials/login-name.js";
import type { LoginFailures } from "../../domain/credentials/login-throttle.js";
import type { LoginStore } from "../../domain/credentials/password-login.js";
import type { UserState } from "../../domain/user-state.js";
import { type StorageGuard, unmonitoredStorage } from "../storage-health.js";
import type { PgDb } from "./open-postgres.js";
import { loginFailures, users } from "./schema.js";
import { deleteInBatches } from "../delete-in-batches.js";
import { batchRows } from "./batch-rows.js";

// The first key of the two-key advisory locks on login names (the second is the name's hash): a number no other code
// uses as first key ("vfyl" in ASCII). Two-key locks never conflict with the one-key locks of migrations and bootstrap.
const loginLockSpace = 0x7666796c;

export class PostgresLoginStore implements LoginStore {
  constructor(
    private readonly db: PgDb,
    private readonly storage: StorageGuard = unmonitoredStorage,
  ) {}

  async findByLoginName(name: LoginName, organizationId?: string): Promise<UserState[]> {
    const matches = [
      // usernameKey's folding, as users_username_unique and users_by_username hold it.
      name.username === undefined ? undefined : sql`lower(${users.username} COLLATE "C") = ${name.username}`,
      name.phone === undefined ? undefined : eq(users.verifiedPhone, name.phone),
      name.email === undefined ? undefined : eq(users.verifiedEmail, name.email),
    ].filter((condition): condition is SQL => condition !== undefined);
    // or() of nothing would match every user.
    if (matches.length === 0) return [];
    const within = organizationId === undefined ? undefined : eq(users.resourceOwner, organizationId);
    const rows = await this.storage.use(() =>
      this.db
        .select({ state: users.state })
        .from(users)
        .where(and(or(...matches), within)),
    );
    return rows.map((row) => row.state);
  }

  async admitAttempt(
    key: string,
    now: Date,
    retryAfterMs: (record: LoginFailures | undefined, now: Date) => number,
  ): Promise<number> {
    return this.storage.write(() =>
      this.db.transaction(async (tx) => {
        // A row lock cannot hold a name that has no row yet: the advisory lock on the name makes a second attempt,
        // from any process, wait for this one's count before it reads.
        await tx.execute(sql`SELECT pg_advisory_xact_lock(${loginLockSpace}::int4, hashtext(${key}))`);
        const [record] = await tx
          .select({ failures: loginFailures.failures, lastFailureAt: loginFailures.lastFailureAt })
          .from(loginFailures)
          .where(eq(loginFailures.loginName, key));
        const waitMs = retryAfterMs(record, now);
        if (waitMs === 0) {
          await tx
            .insert(loginFailures)
            .values({ loginName: key, failures: 1, lastFailureAt: now })
            .onConflictDoUpdate({
              target: loginFailures.loginName,
              set: { failures: sql`${loginFailures.failures} + 1`, lastFailureAt: sql`excluded.last_failure_at` },
            });
        }
        return waitMs;
      }),
    );
  }

  async clearFailures(key: string): Promise<void> {
    await this.storage.write(() => this.db.delete(loginFailures).where(eq(loginFailures.loginName, key)));
  }

  async forgetAttempt(key: string): Promise<void> {
    await this.storage.write(() =>
      this.db
        .update(loginFailures)
        .set({ failures: sql`${loginFailures.failures} - 1` })
        .where(and(eq(loginFailures.loginName, key), gt(loginFailures.failures, 0))),
    );
  }

  /**
   * Deletes the counts of names whose last failure is older than `before`; returns how many. A guesser who comes back
   * after that starts over with the few free attempts, which is nothing next to a day at the ceiling's rate.
   */
  async purgeIdle(before: Date): Promise<number> {
    return deleteInBatches(async (limit) => {
      const batch = batchRows(this.db, loginFailures, lt(loginFailures.lastFailureAt, before), limit);
      return (await this.storage.write(() => this.db.delete(loginFailures).where(batch))).rowCount ?? 0;
    });
  }
}
