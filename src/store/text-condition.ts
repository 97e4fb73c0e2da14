// A list query's text filter as SQL.
import { type SQL, type SQLWrapper, sql } from "drizzle-orm";
import type { TextMatch } from "../domain/text-match.js";

/**
 * Plain string functions, not LIKE, whose % and _ a value may hold. SQLite's lower() folds ASCII letters only, so the
 * value is folded the same way: "ignoring case" means ASCII case on both sides.
 */
export function textCondition(column: SQLWrapper, match: TextMatch, value: string): SQL {
  const ignoreCase = match.endsWith("IgnoreCase");
  const text = ignoreCase ? sql`lower(${column})` : sql`${column}`;
  const wanted = ignoreCase ? value.replace(/[A-Z]/g, (letter) => letter.toLowerCase()) : value;
  const method = match.replace("IgnoreCase", "");
  // Every text starts with, ends with and contains the empty string.
  if (wanted === "" && method !== "equals") return sql`1`;
  switch (method) {
    case "startsWith":
      return sql`substr(${text}, 1, ${wanted.length}) = ${wanted}`;
    case "endsWith":
      return sql`substr(${text}, -${wanted.length}) = ${wanted}`;
    case "contains":
      return sql`instr(${text}, ${wanted}) > 0`;
    default:
      return sql`${text} = ${wanted}`;
  }
}
