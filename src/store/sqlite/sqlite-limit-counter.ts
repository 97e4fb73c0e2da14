// The counts behind every limit, in SQLite. Checked and recorded inside the user store's write transaction, which
// holds the database's write lock: two processes cannot both pass the last free place of a limit.
// Like the user store's, these statements run in every counted call and are better-sqlite3 statements prepared once;
// names come from schema.ts, timestamps are integer milliseconds.
import type { Statement } from "better-sqlite3";
import { LimitReached, type LimitKey, type LimitRule, type LimitedAction, waitForRule } from "../../domain/limits/counted-action.js";
import type { Db } from "./open-database.js";
import { columnList, quoted } from "../raw-statement.js";
import { countedActions as actions } from "./schema.js";

type KeyKind = LimitKey["by"];

// The columns each kind of key matches, besides the window; sends are counted by every key, verifications only per
// user, and the destination, organization and caller indexes hold sends alone (schema.ts).
const keyColumns: Record<KeyKind, { columns: string[]; sendsOnly: boolean }> = {
  "user-channel": { columns: [quoted(actions.userId), quoted(actions.channel)], sendsOnly: false },
  user: { columns: [quoted(actions.userId)], sendsOnly: false },
  destination: { columns: [quoted(actions.destination)], sendsOnly: true },
  organization: { columns: [quoted(actions.organizationId)], sendsOnly: true },
  caller: { columns: [quoted(actions.callerId)], sendsOnly: true },
};

const recordedColumns = [actions.action, actions.at, actions.userId, actions.channel, actions.destination, actions.organizationId, actions.callerId];

export class SqliteLimitCounter {
  private readonly maxthRecent: Record<KeyKind, Statement<unknown[], number>>;
  private readonly insertAction;
  private readonly deleteBefore;

  constructor(db: Db) {
    const client = db.$client;
    // The `max`-th most recent action of the key inside the window, if any, is the one the next action waits for.
    const newestFirst = ({ columns, sendsOnly }: (typeof keyColumns)[KeyKind]) =>
      client
        .prepare(
          `SELECT ${quoted(actions.at)} FROM ${quoted(actions)} WHERE ${columns.map((column) => `${column} = ?`).join(" AND ")} ` +
            // A literal, not a parameter: only then can SQLite use an index that holds sends alone.
            `AND ${quoted(actions.action)} = ${sendsOnly ? "'send'" : "?"} AND ${quoted(actions.at)} > ? ` +
            `ORDER BY ${quoted(actions.at)} DESC LIMIT 1 OFFSET ?`,
        )
        .pluck() as Statement<unknown[], number>;
    this.maxthRecent = {
      "user-channel": newestFirst(keyColumns["user-channel"]),
      user: newestFirst(keyColumns.user),
      destination: newestFirst(keyColumns.destination),
      organization: newestFirst(keyColumns.organization),
      caller: newestFirst(keyColumns.caller),
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
  const { key, action } = rule;
  if (keyColumns[key.by].sendsOnly && action !== "send") {
    // The statement counts sends alone: counting anything else by this key needs an index and a statement for it.
    throw new Error(`limits count ${key.by} for sends only, not for ${action}`);
  }
  switch (key.by) {
    case "user-channel":
      return [key.userId, key.channel, action];
    case "user":
      return [key.userId, action];
    case "destination":
      return [key.destination];
    case "organization":
      return [key.organizationId];
    case "caller":
      return [key.callerId];
  }
}
