// The list filters' conditions spelled for PostgreSQL (their meaning is src/store/text-condition.ts). lower() folds
// every letter the database's locale knows, so "ignoring case" translates A-Z alone, as SQLite's lower() and
// matchesText do; right() counts characters, that is code points.
import { sql } from "drizzle-orm";
import type { ConditionSpelling } from "../text-condition.js";

export const postgresConditions: ConditionSpelling = {
  always: sql`true`,
  never: sql`false`,
  foldAscii: (text) => sql`translate(${text}, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz')`,
  startsWith: (text, wanted) => sql`starts_with(${text}, ${wanted})`,
  endsWith: (text, wanted) => sql`right(${text}, ${[...wanted].length}) = ${wanted}`,
  contains: (text, wanted) => sql`strpos(${text}, ${wanted}) > 0`,
  // Under the "C" collation lower() folds ASCII letters alone, as translate() above does.
  indexedUsernameKey: (username) => sql`lower(${username} COLLATE "C")`,
};
