// The counts behind every limit, in SQLite. Checked and recorded inside the user store's write transaction, which
// holds the database's write lock: two processes cannot both pass the last free place of a limit.
// Like the user store's, these statements run in every counted call and are better-sqlite3 statements prepared once;
// names come from schema.ts, timestamps are integer milliseconds.
import type { Statement } from "better-sqlite3";
import { type LimitCharge, LimitReached, waitForRule } from "../../domain/limits/counted-action.js";
import type { Db } from "./open-database.js";
import { quoted } from "../raw-statement.js";
import { distinctSeries, seriesOf } from "../limit-keys.js";
import { limitEntries as entries } from "./schema.js";

const [table, series, ordinal, at] = [quoted(entries), quoted(entries.series), quoted(entries.ordinal), quoted(entries.at)];

export class SqliteLimitCounter {
  private readonly maxthRecentAt: Statement<[string, number, string, number], number>;
  private readonly append: Statement<[string, number, string]>;
  private readonly deleteBatchBefore: Statement<[number, number]>;

  constructor(db: Db) {
    const client = db.$client;
    // The `max`-th most recent entry of a series is `max - 1` ordinals below its newest: two lookups in the primary
    // key, however many entries the series holds. If it is inside the window, it is the one the next action waits for.
    this.maxthRecentAt = client
      .prepare<[string, number, string, number], number>(
        `SELECT ${at} FROM ${table} WHERE ${series} = ? AND ${at} > ? AND ${ordinal} = ` +
          `(SELECT max(${ordinal}) FROM ${table} WHERE ${series} = ?) + 1 - ?`,
      )
      .pluck();
    this.append = client.prepare(
      `INSERT INTO ${table} (${series}, ${ordinal}, ${at}) SELECT ?, coalesce(max(${ordinal}), 0) + 1, ? FROM ${table} WHERE ${series} = ?`,
    );
    // WITHOUT ROWID: a batch (delete-in-batches.ts) is named by its primary key.
    this.deleteBatchBefore = client.prepare(
      `DELETE FROM ${table} WHERE (${series}, ${ordinal}) IN (SELECT ${series}, ${ordinal} FROM ${table} WHERE ${at} < ? LIMIT ?)`,
    );
  }

  /** Throws LimitReached for the first rule the action would break; call inside the write transaction. */
  check({ rules, at }: LimitCharge): void {
    for (const rule of rules) {
      const name = seriesOf(rule);
      const found = this.maxthRecentAt.get(name, at.getTime() - rule.windowMs, name, rule.max);
      const wait = waitForRule(rule, found === undefined ? undefined : new Date(found), at);
      if (wait > 0) throw new LimitReached(rule, wait);
    }
  }

  /** Adds the action at the end of each series its rules count. */
  record({ rules, at }: LimitCharge): void {
    for (const name of distinctSeries(rules)) this.append.run(name, at.getTime(), name);
  }

  /** Deletes at most `limit` entries no limit counts any more; returns how many. */
  purgeBatch(before: Date, limit: number): number {
    return this.deleteBatchBefore.run(before.getTime(), limit).changes;
  }
}
