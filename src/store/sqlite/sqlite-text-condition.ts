// The list filters' conditions spelled for SQLite (their meaning is src/store/text-condition.ts): lower() folds ASCII
// letters only, and substr() counts characters, not the UTF-16 units of JavaScript's length.
import { sql } from "drizzle-orm";
import type { ConditionSpelling } from "../text-condition.js";

export const sqliteConditions: ConditionSpelling = {
  always: sql`1`,
  never: sql`0`,
  foldAscii: (text) => sql`lower(${text})`,
  startsWith: (text, wanted) => sql`substr(${text}, 1, ${characters(wanted)}) = ${wanted}`,
  endsWith: (text, wanted) => sql`substr(${text}, -${characters(wanted)}) = ${wanted}`,
  contains: (text, wanted) => sql`instr(${text}, ${wanted}) > 0`,
  indexedUsernameKey: (username) => sql`lower(${username})`,
};

function characters(text: string): number {
  return [...text].length;
}
