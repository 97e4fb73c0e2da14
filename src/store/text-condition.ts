// A list query's text filter as SQL, with one meaning in both dialects (and matchesText's in memory): plain string
// functions, not LIKE, whose % and _ a value may hold; "ignoring case" folds ASCII letters only, on both sides; every
// text starts with, ends with and contains the empty string. The meaning is here; each dialect spells the functions
// (sqlite/sqlite-text-condition.ts, postgres/postgres-text-condition.ts).
import { type SQL, type SQLWrapper, sql } from "drizzle-orm";
import type { TextMatch } from "../domain/text-match.js";

/** How a dialect spells the conditions a list query's filters are made of. */
export interface ConditionSpelling {
  /** A condition that holds for every row, and one that holds for none. */
  always: SQL;
  never: SQL;
  /** The text with its ASCII letters, and only those, lower-cased. */
  foldAscii(text: SQLWrapper): SQL;
  startsWith(text: SQL, wanted: string): SQL;
  endsWith(text: SQL, wanted: string): SQL;
  contains(text: SQL, wanted: string): SQL;
  /**
   * A username as the users' index holds it, its key in any case (the same folding as foldAscii, spelled as the index
   * is: migration 0012 on SQLite, 0005 on PostgreSQL), so that a condition on it is looked up rather than compared
   * with every user.
   */
  indexedUsernameKey(username: SQLWrapper): SQL;
}

/** A text filter: `match` of `value` against `column`, in the dialect `spelling` spells. */
export function textCondition(spelling: ConditionSpelling, column: SQLWrapper, match: TextMatch, value: string): SQL {
  const ignoreCase = match.endsWith("IgnoreCase");
  const text = ignoreCase ? spelling.foldAscii(column) : sql`${column}`;
  const wanted = ignoreCase ? value.replace(/[A-Z]/g, (letter) => letter.toLowerCase()) : value;
  const method = match.replace("IgnoreCase", "");
  // Every text starts with, ends with and contains the empty string.
  if (wanted === "" && method !== "equals") return spelling.always;
  switch (method) {
    case "startsWith":
      return spelling.startsWith(text, wanted);
    case "endsWith":
      return spelling.endsWith(text, wanted);
    case "contains":
      return spelling.contains(text, wanted);
    default:
      return sql`${text} = ${wanted}`;
  }
}
