// The counts behind every limit, in SQLite. Checked and recorded inside the user store's write transaction, which
// holds the database's write lock: two processes cannot both pass the last free place of a limit.
// Like the user store's, these statements run in every counted call and are better-sqlite3 statements prepared once;
// names come from schema.ts, timestamps are integer milliseconds.
import type { Statement } from "better-sqlite3";
import { LimitReached, type LimitKey, type LimitRule, type LimitedAction, waitForRule } from "../../domain/limits/counted-action.js";
import type { Db } from "./open-database.js";
import { columnList, quoted } from "../raw-statement.js";
import { assertCountable, keyColumnNames, keyValues, sendsOnly } from "../limit-keys.js";
import { countedActions as actions } from "./schema.js";

type KeyKind = LimitKey["by"];

const keyColumns = (by: KeyKind): string[] => keyColumnNames[by].map((name) => quoted(actions[name]));

const recordedColumns = [actions.action, actions.at, actions.userId, actions.channel, actions.destination, actions.organizationId, actions.callerId];

export class SqliteLimitCounter {
  private readonly maxthRecent: Record<KeyKind, Statement<unknown[], number>>;
  private readonly insertAction;
  private readonly deleteBefore;

  constructor(db: Db) {
    const client = db.$client;
    // The `max`-th most recent action of the key inside the window, if any, is the one the next action waits for.
    const newestFirst = (by: KeyKind) =>
      client
        .prepare(
          `SELECT ${quoted(actions.at)} FROM ${quoted(actions)} WHERE ${keyColumns(by).map((column) => `${column} = ?`).join(" AND ")} ` +
            // A literal, not a parameter: only then can SQLite use an index that holds sends alone.
            `AND ${quoted(actions.action)} = ${sendsOnly[by] ? "'send'" : "?"} AND ${quoted(actions.at)} > ? ` +
            `ORDER BY ${quoted(actions.at)} DESC LIMIT 1 OFFSET ?`,
        )
        .pluck() as Statement<unknown[], number>;
    this.maxthRecent = {
      "user-channel": newestFirst("user-channel"),
      user: newestFirst("user"),
      destination: newestFirst("destination"),
      organization: newestFirst("organization"),
      caller: newestFirst("caller"),
    };
    this.insertAction = client.prepare<unknown[]>(
      `INSERT INTO ${quoted(actions)} (${columnList(recordedColumns)}) VALUES (${recordedColumns.map(() => "?").join(", ")})`,
    );
    this.deleteBefore = client.prepare<[number]>(`DELETE FROM ${quoted(actions)} WHERE ${quoted(actions.at)} < ?`);
  }

  /** Throws LimitReached for the first rule the action would break; call inside the write transaction. */
  check({ rules, at }: LimitedAction): void {
    for (const rule of rules) {
      const since = at.getTime() - rule.windowMs;
      const found = this.maxthRecent[rule.key.by].get(...parameters(rule), since, rule.max - 1);
      const wait = waitForRule(rule, found === undefined ? undefined : new Date(found), at);
      if (wait > 0) throw new LimitReached(rule, wait);
    }
  }

  record({ counted, at }: LimitedAction): void {
    this.insertAction.run(
      counted.action,
      at.getTime(),
      counted.userId,
      counted.channel,
      counted.destination ?? null,
      counted.organizationId,
      counted.callerId,
    );
  }

  /** Deletes actions no limit counts any more; returns how many. */
  purge(before: Date): number {
    return this.deleteBefore.run(before.getTime()).changes;
  }
}

/** The key's values in the order of its columns, then the action where the statement takes it as a parameter. */
function parameters(rule: LimitRule): unknown[] {
  assertCountable(rule);
  return sendsOnly[rule.key.by] ? keyValues(rule.key) : [...keyValues(rule.key), rule.action];
}
