// The statements every call runs, sent to PostgreSQL by name: the server parses and plans each once per connection
// instead of on every call, and the text is built once from schema.ts's names (raw-statement.ts) instead of by drizzle
// on every call. Rows come back as arrays, in the order of the select list, for small mapping functions to read;
// node-postgres returns timestamptz as Date and jsonb parsed.
import type pg from "pg";

export interface NamedStatement {
  readonly name: string;
  readonly text: string;
}

/** The pool, or one connection for the statements of a transaction. */
export interface Queryable {
  query: pg.ClientBase["query"];
}

const names = new Set<string>();

/** A statement under a name of its own: a connection refuses one name for two texts. */
export function namedStatement(name: string, text: string): NamedStatement {
  if (names.has(name)) throw new Error(`two statements named ${name}`);
  names.add(name);
  return { name, text };
}

/** The rows, each an array of its columns. */
export async function rowsOf<Row extends unknown[]>(on: Queryable, { name, text }: NamedStatement, values: unknown[]): Promise<Row[]> {
  return (await on.query<Row>({ name, text, values, rowMode: "array" })).rows;
}

/** How many rows the statement wrote. */
export async function run(on: Queryable, { name, text }: NamedStatement, values: unknown[]): Promise<number> {
  return (await on.query({ name, text, values })).rowCount ?? 0;
}
