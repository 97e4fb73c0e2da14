// Names for hand-written SQL, taken from the schema so that schema.ts stays the one place that spells them.
import { Column, type Table, getTableName, is } from "drizzle-orm";

/** A table's or column's name, quoted for SQL. */
export function quoted(item: Table | Column): string {
  const name = is(item, Column) ? item.name : getTableName(item);
  return `"${name.replaceAll('"', '""')}"`;
}

/** A comma-separated list of quoted column names, in the order given. */
export function columnList(columns: readonly Column[]): string {
  return columns.map(quoted).join(", ");
}

/** A column's name qualified by its table's, for statements that join. */
export function qualified(column: Column): string {
  return `${quoted(column.table)}.${quoted(column)}`;
}
