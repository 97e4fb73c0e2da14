// How long a failed delivery waits before its message is due again, for both dialects: none before the first attempt
// (a message failed unclaimed is due at once), 1 s after the first failure, doubling up to 5 minutes. An SQL
// expression over the message's attempts, so that the back-off is set in the same statement that records the failure;
// the dialects differ only in the name of their two-argument minimum.
import { type SQL, type SQLWrapper, sql } from "drizzle-orm";

const firstMs = 1000;
const maxMs = 300_000;
/** 1000 << 9 is past maxMs already: no larger shift is needed. */
const maxDoublings = 9;

/** The back-off in milliseconds; `least` is the dialect's two-argument minimum: SQLite's min, PostgreSQL's least. */
export function failureBackOffMs(attempts: SQLWrapper, least: "min" | "least"): SQL {
  const smaller = sql.raw(least);
  const [first, max, doublings] = [firstMs, maxMs, maxDoublings].map((n) => sql.raw(String(n)));
  return sql`CASE WHEN ${attempts} < 1 THEN 0 ELSE ${smaller}(${max}, ${first} * (1 << ${smaller}(${attempts} - 1, ${doublings}))) END`;
}
