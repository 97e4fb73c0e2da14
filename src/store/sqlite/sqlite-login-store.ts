// Password logins in SQLite: users found by their login names (the lookup columns of the users projection), and
// the failure count per login name, kept across restarts and shared by every process on the database.
import { and, eq, gt, lt, or, sql } from "drizzle-orm";
import type { LoginName } from "../../domain/credentials/login-name.js";
import type { LoginFailures } from "../../domain/credentials/login-throttle.js";
import type { LoginStore } from "../../domain/credentials/password-login.js";
import type { UserState } from "../../domain/user-state.js";
import type { Db } from "./open-database.js";
import { loginFailures, users } from "./schema.js";
import { type StorageGuard, unmonitoredStorage } from "../storage-health.js";
import { deleteInBatches, purgeBatchRows } from "../delete-in-batches.js";
import { batchRows } from "./batch-rows.js";

const placeholder = sql.placeholder;

export class SqliteLoginStore implements LoginStore {
  private readonly selectUsers;
  private readonly selectFailures;
  private readonly upsertFailure;
  private readonly deleteFailures;
  private readonly decrementFailures;
  private readonly deleteIdleFailures;
  /** Immediate, so that of two attempts at once the second sees the first one counted. */
  private readonly admitInTransaction;

  constructor(
    db: Db,
    private readonly storage: StorageGuard = unmonitoredStorage,
  ) {
    this.selectUsers = db
      .select({ state: users.state })
      .from(users)
      .where(
        and(
          or(
            // usernameKey's folding, as users_username_unique and users_by_username hold it.
            sql`lower(${users.username}) = ${placeholder("username")}`,
            eq(users.verifiedPhone, placeholder("phone")),
            eq(users.verifiedEmail, placeholder("email")),
          ),
          // NULL: any organization.
          sql`(${placeholder("organizationId")} IS NULL OR ${users.resourceOwner} = ${placeholder("organizationId")})`,
        ),
      )
      .prepare();
    this.selectFailures = db
      .select({ failures: loginFailures.failures, lastFailureAt: loginFailures.lastFailureAt })
      .from(loginFailures)
      .where(eq(loginFailures.loginName, placeholder("key")))
      .prepare();
    this.upsertFailure = db
      .insert(loginFailures)
      .values({ loginName: placeholder("key"), failures: 1, lastFailureAt: placeholder("at") })
      .onConflictDoUpdate({
        target: loginFailures.loginName,
        set: { failures: sql`${loginFailures.failures} + 1`, lastFailureAt: sql`excluded.last_failure_at` },
      })
      .prepare();
    this.deleteFailures = db.delete(loginFailures).where(eq(loginFailures.loginName, placeholder("key"))).prepare();
    this.decrementFailures = db
      .update(loginFailures)
      .set({ failures: sql`${loginFailures.failures} - 1` })
      .where(and(eq(loginFailures.loginName, placeholder("key")), gt(loginFailures.failures, 0)))
      .prepare();
    this.deleteIdleFailures = db
      .delete(loginFailures)
      .where(batchRows(db, loginFailures, lt(loginFailures.lastFailureAt, placeholder("before")), purgeBatchRows))
      .prepare();
    this.admitInTransaction = db.$client.transaction(
      (key: string, now: Date, retryAfterMs: (record: LoginFailures | undefined, now: Date) => number): number => {
        const waitMs = retryAfterMs(this.selectFailures.get({ key }), now);
        if (waitMs === 0) this.upsertFailure.run({ key, at: now });
        return waitMs;
      },
    ).immediate;
  }

  async findByLoginName(name: LoginName, organizationId?: string): Promise<UserState[]> {
    // An absent username, phone or email binds NULL, which equals nothing.
    const params = {
      username: name.username ?? null,
      phone: name.phone ?? null,
      email: name.email ?? null,
      organizationId: organizationId ?? null,
    };
    return this.storage.use(() => this.selectUsers.all(params).map((row) => row.state));
  }

  async admitAttempt(
    key: string,
    now: Date,
    retryAfterMs: (record: LoginFailures | undefined, now: Date) => number,
  ): Promise<number> {
    return this.storage.write(() => this.admitInTransaction(key, now, retryAfterMs));
  }

  async clearFailures(key: string): Promise<void> {
    this.storage.write(() => this.deleteFailures.run({ key }));
  }

  async forgetAttempt(key: string): Promise<void> {
    this.storage.write(() => this.decrementFailures.run({ key }));
  }

  /**
   * Deletes the counts of names whose last failure is older than `before`; returns how many. A guesser who comes back
   * after that starts over with the few free attempts, which is nothing next to a day at the ceiling's rate.
   */
  async purgeIdle(before: Date): Promise<number> {
    // Conditions bind a placeholder as it is, without the column's encoding: milliseconds.
    return deleteInBatches(() => this.storage.write(() => this.deleteIdleFailures.run({ before: before.getTime() }).changes));
  }
}
