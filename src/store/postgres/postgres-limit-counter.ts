// The counts behind every limit, in PostgreSQL. Several processes write at once and READ COMMITTED lets two
// transactions count the same rows, so each change first takes a transaction-scoped advisory lock per limit key it
// counts: the second of two racing changes counts only after the first committed, and cannot pass the last free place.
import { type SQL, and, desc, eq, gt, lt, sql } from "drizzle-orm";
import type { NodePgQueryResultHKT } from "drizzle-orm/node-postgres";
import type { PgDatabase } from "drizzle-orm/pg-core";
import { LimitReached, type LimitRule, type LimitedAction, waitForRule } from "../../domain/limits/counted-action.js";
import { assertCountable, keyValues, sendsOnly } from "../limit-keys.js";
import { countedActions as actions } from "./schema.js";

/** The pool or a transaction: the locks, checks and records run in the transaction of the change they count. */
export type PgQueries = PgDatabase<NodePgQueryResultHKT>;

export class PostgresLimitCounter {
  /**
   * Locks every key the actions' rules count, until the transaction ends. In one statement and ordered by the lock's
   * own number (PostgreSQL evaluates a volatile select list after ORDER BY), so that two changes sharing keys take
   * them in the same order and never wait for each other in a cycle.
   */
  async lock(tx: PgQueries, limited: readonly LimitedAction[]): Promise<void> {
    const keys = [...new Set(limited.flatMap(({ rules }) => rules.map(lockName)))];
    if (keys.length === 0) return;
    const locks = sql`SELECT DISTINCT hashtextextended(name, 0) AS lock FROM unnest(${sql.param(keys)}::text[]) AS name`;
    await tx.execute(sql`SELECT pg_advisory_xact_lock(lock) FROM (${locks}) AS locks ORDER BY lock`);
  }

  /** Throws LimitReached for the first rule the action would break; call inside the transaction, after `lock`. */
  async check(tx: PgQueries, { rules, at }: LimitedAction): Promise<void> {
    for (const rule of rules) {
      // The `max`-th most recent action of the key inside the window, if any, is the one the next action waits for.
      const [found] = await tx
        .select({ at: actions.at })
        .from(actions)
        .where(and(...keyConditions(rule), gt(actions.at, new Date(at.getTime() - rule.windowMs))))
        .orderBy(desc(actions.at))
        .limit(1)
        // As SQLite reads a negative offset.
        .offset(Math.max(0, rule.max - 1));
      const wait = waitForRule(rule, found?.at, at);
      if (wait > 0) throw new LimitReached(rule, wait);
    }
  }

  async record(tx: PgQueries, { counted, at }: LimitedAction): Promise<void> {
    await tx.insert(actions).values({
      action: counted.action,
      at,
      userId: counted.userId,
      channel: counted.channel,
      destination: counted.destination ?? null,
      organizationId: counted.organizationId,
      callerId: counted.callerId,
    });
  }

  /** Deletes actions no limit counts any more; returns how many. */
  async purge(db: PgQueries, before: Date): Promise<number> {
    return (await db.delete(actions).where(lt(actions.at, before))).rowCount ?? 0;
  }
}

/** One lock per set of counted actions a rule looks at; sends and verifications of a user share theirs. */
function lockName({ key }: LimitRule): string {
  return JSON.stringify([key.by, ...keyValues(key)]);
}

/** The key's columns and the action; for sends-only keys the action is a literal, which the partial indexes need. */
function keyConditions(rule: LimitRule): SQL[] {
  const { key, action } = rule;
  assertCountable(rule);
  const actionCondition = sendsOnly[key.by] ? sql`${actions.action} = 'send'` : eq(actions.action, action);
  switch (key.by) {
    case "user-channel":
      return [eq(actions.userId, key.userId), eq(actions.channel, key.channel), actionCondition];
    case "user":
      return [eq(actions.userId, key.userId), actionCondition];
    case "destination":
      return [eq(actions.destination, key.destination), actionCondition];
    case "organization":
      return [eq(actions.organizationId, key.organizationId), actionCondition];
    case "caller":
      return [eq(actions.callerId, key.callerId), actionCondition];
  }
}
