// The counts behind every limit, in PostgreSQL. Several processes write at once and READ COMMITTED lets two
// transactions count the same rows, so each change first takes a transaction-scoped advisory lock per limit key it
// counts: the second of two racing changes counts only after the first committed, and cannot pass the last free place.
// Like the user store's, the lock, checks and record run in every counted call and are statements sent by name
// (named-statement.ts), on the connection of the change's transaction.
import { lt } from "drizzle-orm";
import type { NodePgQueryResultHKT } from "drizzle-orm/node-postgres";
import type { PgDatabase } from "drizzle-orm/pg-core";
import { LimitReached, type LimitKey, type LimitRule, type LimitedAction, waitForRule } from "../../domain/limits/counted-action.js";
import { assertCountable, keyColumnNames, keyValues, sendsOnly } from "../limit-keys.js";
import { columnList, quoted } from "../raw-statement.js";
import { type NamedStatement, type Queryable, namedStatement, rowsOf, run } from "./named-statement.js";
import { countedActions as actions } from "./schema.js";

/** The pool or a transaction, for what drizzle still builds. */
export type PgQueries = PgDatabase<NodePgQueryResultHKT>;

type KeyKind = LimitKey["by"];

/**
 * Locks every key the actions' rules count, until the transaction ends. In one statement and ordered by the lock's
 * own number (PostgreSQL evaluates a volatile select list after ORDER BY), so that two changes sharing keys take
 * them in the same order and never wait for each other in a cycle.
 */
const lockKeys = namedStatement(
  "limits_lock",
  "SELECT pg_advisory_xact_lock(lock) FROM " +
    "(SELECT DISTINCT hashtextextended(name, 0) AS lock FROM unnest($1::text[]) AS name) AS locks ORDER BY lock",
);

const keyColumns = (by: KeyKind): string[] => keyColumnNames[by].map((name) => quoted(actions[name]));

// The `max`-th most recent action of the key inside the window, if any, is the one the next action waits for.
const maxthRecent = (by: KeyKind) => {
  const keys = keyColumns(by).map((column, index) => `${column} = $${index + 1}`);
  let next = keys.length + 1;
  // A literal, not a parameter, for sends-only keys: only then can PostgreSQL use the partial indexes of sends.
  const action = sendsOnly[by] ? "'send'" : `$${next++}`;
  return namedStatement(
    `limits_maxth_recent_${by}`,
    `SELECT ${quoted(actions.at)} FROM ${quoted(actions)} WHERE ${keys.join(" AND ")} AND ${quoted(actions.action)} = ${action} ` +
      `AND ${quoted(actions.at)} > $${next} ORDER BY ${quoted(actions.at)} DESC LIMIT 1 OFFSET $${next + 1}`,
  );
};
const maxthRecentOf: Record<KeyKind, NamedStatement> = {
  "user-channel": maxthRecent("user-channel"),
  user: maxthRecent("user"),
  destination: maxthRecent("destination"),
  organization: maxthRecent("organization"),
  caller: maxthRecent("caller"),
};

const recordedColumns = [actions.action, actions.at, actions.userId, actions.channel, actions.destination, actions.organizationId, actions.callerId];
const insertAction = namedStatement(
  "limits_record",
  `INSERT INTO ${quoted(actions)} (${columnList(recordedColumns)}) VALUES (${recordedColumns.map((_, index) => `$${index + 1}`).join(", ")})`,
);

export class PostgresLimitCounter {
  /** Locks the keys of the actions' rules until the transaction on `tx` ends; see lockKeys. */
  async lock(tx: Queryable, limited: readonly LimitedAction[]): Promise<void> {
    const keys = [...new Set(limited.flatMap(({ rules }) => rules.map(lockName)))];
    if (keys.length === 0) return;
    await run(tx, lockKeys, [keys]);
  }

  /** Throws LimitReached for the first rule the action would break; call inside the transaction, after `lock`. */
  async check(tx: Queryable, { rules, at }: LimitedAction): Promise<void> {
    for (const rule of rules) {
      const since = new Date(at.getTime() - rule.windowMs);
      // As SQLite reads a negative offset.
      const offset = Math.max(0, rule.max - 1);
      const [found] = await rowsOf<[Date]>(tx, maxthRecentOf[rule.key.by], [...parameters(rule), since, offset]);
      const wait = waitForRule(rule, found?.[0], at);
      if (wait > 0) throw new LimitReached(rule, wait);
    }
  }

  async record(tx: Queryable, { counted, at }: LimitedAction): Promise<void> {
    await run(tx, insertAction, [
      counted.action,
      at,
      counted.userId,
      counted.channel,
      counted.destination ?? null,
      counted.organizationId,
      counted.callerId,
    ]);
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

/** The key's values in the order of its columns, then the action where the statement takes it as a parameter. */
function parameters(rule: LimitRule): unknown[] {
  assertCountable(rule);
  return sendsOnly[rule.key.by] ? keyValues(rule.key) : [...keyValues(rule.key), rule.action];
}
