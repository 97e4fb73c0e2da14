// The counts behind every limit, in PostgreSQL. Several processes write at once and READ COMMITTED lets two
// transactions count the same rows, so each change first takes a transaction-scoped advisory lock per series it
// counts: the second of two racing changes counts only after the first committed, and cannot pass the last free place.
// Like the user store's, the lock, check and record run in every counted call and are statements sent by name
// (named-statement.ts), on the connection of the change's transaction: one round trip each, whatever the rules.
import { lt } from "drizzle-orm";
import type { NodePgQueryResultHKT } from "drizzle-orm/node-postgres";
import type { PgDatabase } from "drizzle-orm/pg-core";
import { type LimitCharge, LimitReached, waitForRule } from "../../domain/limits/counted-action.js";
import { distinctSeries, seriesOf } from "../limit-keys.js";
import { quoted } from "../raw-statement.js";
import { namedStatement, rowsOf, run, type Queryable } from "./named-statement.js";
import { limitEntries as entries } from "./schema.js";
import { batchRows } from "./batch-rows.js";

/** The pool or a transaction, for what drizzle still builds. */
export type PgQueries = PgDatabase<NodePgQueryResultHKT>;

const [table, series, ordinal, at] = [quoted(entries), quoted(entries.series), quoted(entries.ordinal), quoted(entries.at)];

/**
 * Locks every series until the transaction ends. In one statement and ordered by the lock's own number (PostgreSQL
 * evaluates a volatile select list after ORDER BY), so that two changes sharing series take them in the same order
 * and never wait for each other in a cycle.
 */
const lockSeries = namedStatement(
  "limits_lock",
  "SELECT pg_advisory_xact_lock(lock) FROM " +
    "(SELECT DISTINCT hashtextextended(name, 0) AS lock FROM unnest($1::text[]) AS name) AS locks ORDER BY lock",
);

/**
 * The first rule (numbered from 1) whose `max`-th most recent entry is inside its window, and that entry's time: the
 * one the next action waits for. That entry is `max - 1` ordinals below the newest of its series, so each rule costs
 * two lookups in the primary key, however many entries the series holds.
 */
const firstReached = namedStatement(
  "limits_first_reached",
  `SELECT rule.number, entry.${at} FROM unnest($1::text[], $2::bigint[], $3::timestamptz[]) WITH ORDINALITY AS rule(series, max, since, number) ` +
    `JOIN ${table} AS entry ON entry.${series} = rule.series AND entry.${at} > rule.since AND entry.${ordinal} = ` +
    `(SELECT max(newest.${ordinal}) FROM ${table} AS newest WHERE newest.${series} = rule.series) + 1 - rule.max ` +
    "ORDER BY rule.number LIMIT 1",
);

const append = namedStatement(
  "limits_record",
  `INSERT INTO ${table} (${series}, ${ordinal}, ${at}) SELECT name, ` +
    `coalesce((SELECT max(${ordinal}) FROM ${table} WHERE ${series} = name), 0) + 1, $2::timestamptz FROM unnest($1::text[]) AS name`,
);

export class PostgresLimitCounter {
  /** Locks the series of the actions' rules until the transaction on `tx` ends; see lockSeries. */
  async lock(tx: Queryable, limited: readonly LimitCharge[]): Promise<void> {
    const names = distinctSeries(limited.flatMap(({ rules }) => rules));
    if (names.length === 0) return;
    await run(tx, lockSeries, [names]);
  }

  /** Throws LimitReached for the first rule the action would break; call inside the transaction, after `lock`. */
  async check(tx: Queryable, { rules, at }: LimitCharge): Promise<void> {
    if (rules.length === 0) return;
    const [reached] = await rowsOf<[string, Date]>(tx, firstReached, [
      rules.map(seriesOf),
      rules.map((rule) => rule.max),
      rules.map((rule) => new Date(at.getTime() - rule.windowMs)),
    ]);
    if (reached === undefined) return;
    const rule = rules[Number(reached[0]) - 1]!;
    throw new LimitReached(rule, waitForRule(rule, reached[1], at));
  }

  /** Adds the action at the end of each series its rules count. */
  async record(tx: Queryable, { rules, at }: LimitCharge): Promise<void> {
    if (rules.length === 0) return;
    await run(tx, append, [distinctSeries(rules), at]);
  }

  /** Deletes entries no limit counts any more; returns how many. */
  /** Deletes at most `limit` entries no limit counts any more; returns how many. */
  async purgeBatch(db: PgQueries, before: Date, limit: number): Promise<number> {
    return (await db.delete(entries).where(batchRows(db, entries, lt(entries.at, before), limit))).rowCount ?? 0;
  }
}
