// The counts behind every limit, in SQLite. Checked and recorded inside the user store's write transaction, which
// holds the database's write lock: two processes cannot both pass the last free place of a limit.
import { and, desc, eq, gt, lt, sql } from "drizzle-orm";
import { LimitReached, type LimitedAction, waitForRule } from "../domain/limits/counted-action.js";
import type { Db } from "./open-database.js";
import { countedActions } from "./schema.js";

const placeholder = sql.placeholder;

export class SqliteLimitCounter {
  private readonly maxthRecent;
  private readonly insertAction;
  private readonly deleteBefore;

  constructor(db: Db) {
    const newestFirst = (condition: ReturnType<typeof and>) =>
      db
        .select({ at: countedActions.at })
        .from(countedActions)
        .where(and(condition, gt(countedActions.at, placeholder("since"))))
        .orderBy(desc(countedActions.at))
        .limit(1)
        .offset(placeholder("skip"))
        .prepare();
    const action = eq(countedActions.action, placeholder("action"));
    // One query per kind of key, each served by its index; the `max`-th most recent action inside the window, if any,
    // is the one the next action waits for.
    this.maxthRecent = {
      "user-channel": newestFirst(
        and(eq(countedActions.userId, placeholder("userId")), action, eq(countedActions.channel, placeholder("channel"))),
      ),
      user: newestFirst(and(eq(countedActions.userId, placeholder("userId")), action)),
      destination: newestFirst(and(eq(countedActions.destination, placeholder("destination")), action)),
      organization: newestFirst(and(eq(countedActions.organizationId, placeholder("organizationId")), action)),
      caller: newestFirst(and(eq(countedActions.callerId, placeholder("callerId")), action)),
    } as const;
    this.insertAction = db
      .insert(countedActions)
      .values({
        action: placeholder("action"),
        at: placeholder("at"),
        userId: placeholder("userId"),
        channel: placeholder("channel"),
        destination: placeholder("destination"),
        organizationId: placeholder("organizationId"),
        callerId: placeholder("callerId"),
      })
      .prepare();
    this.deleteBefore = db.delete(countedActions).where(lt(countedActions.at, placeholder("before"))).prepare();
  }

  /** Throws LimitReached for the first rule the action would break; call inside the write transaction. */
  check({ rules, at }: LimitedAction): void {
    for (const rule of rules) {
      // Conditions bind a placeholder as it is, without the column's encoding: timestamps go in as milliseconds.
      const since = at.getTime() - rule.windowMs;
      const found = this.maxthRecent[rule.key.by].get({ ...rule.key, action: rule.action, since, skip: rule.max - 1 });
      const wait = waitForRule(rule, found?.at, at);
      if (wait > 0) throw new LimitReached(rule, wait);
    }
  }

  record({ counted, at }: LimitedAction): void {
    this.insertAction.run({ ...counted, destination: counted.destination ?? null, at });
  }

  /** Deletes actions no limit counts any more; returns how many. */
  purge(before: Date): number {
    return this.deleteBefore.run({ before: before.getTime() }).changes;
  }
}
