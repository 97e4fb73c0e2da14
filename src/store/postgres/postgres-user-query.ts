// ListUsers in PostgreSQL: the filters over the users projection (user-list-condition.ts, with the same meaning as in
// SQLite), limited to what the caller may read, in code point order. A list's two reads (its count and its page) each
// end within a budget (errors.listTooCostly), past which the server cancels it and the caller is refused: a costly
// query holds a pooled connection for that long at most, and is never taken for a failing server.
import { type SQLWrapper, asc, count, desc, sql } from "drizzle-orm";
import { errors } from "../../domain/errors.js";
import type { UserPage, UserQuery, UserQueryStore } from "../../domain/users/user-query.js";
import { type StorageGuard, unmonitoredStorage } from "../storage-health.js";
import { userListCondition } from "../user-list-condition.js";
import { userListOrder } from "../user-list-order.js";
import type { PgDb } from "./open-postgres.js";
import { isStatementCancelled } from "./postgres-errors.js";
import { postgresConditions } from "./postgres-text-condition.js";
import { users } from "./schema.js";

// What GetUserByID shows as the address: the verified one while a change is pending, else the pending one.
const visible = {
  email: sql`coalesce(${users.state} #>> '{email,verified}', ${users.state} #>> '{email,pending}')`,
  phone: sql`coalesce(${users.state} #>> '{phone,verified}', ${users.state} #>> '{phone,pending}')`,
};
const listCondition = userListCondition(users, visible, postgresConditions);

// SQLite compares text byte by byte; the database's collation might not.
const binary = (column: SQLWrapper) => sql`${column} COLLATE "C"`;
const listOrder = userListOrder(users, {
  profileField: (name) => sql`${users.state} #>> ${`{profile,${name}}`}`,
  email: visible.email,
  bytewise: binary,
});

/**
 * How long one read may hold its connection: enough for one contains query on the email of 300,000 users (up to 1 s a
 * read), a fifth of the server's default statement timeout; a caller runs two lists at most at once (list-mapping.ts).
 */
const readBudgetMs = 2_000;

/**
 * The transaction's statements each end within the read budget, or within the statement timeout the server already
 * has (--database-statement-timeout) where that is shorter: a list never runs longer than any other statement may.
 */
const limitReads = sql`SELECT set_config('statement_timeout', least(${readBudgetMs}, nullif(setting::int, 0))::text, true)
  FROM pg_settings WHERE name = 'statement_timeout'`;

export class PostgresUserQuery implements UserQueryStore {
  constructor(
    private readonly db: PgDb,
    private readonly storage: StorageGuard = unmonitoredStorage,
  ) {}

  async list(query: UserQuery): Promise<UserPage> {
    const where = listCondition(query);
    const order = listOrder(query.sortBy);
    const direction = query.ascending ? asc : desc;
    return this.storage.use(() =>
      this.db
        .transaction(async (tx) => {
          await tx.execute(limitReads);
          const [counted] = await tx.select({ total: count() }).from(users).where(where);
          const rows = await tx
            .select({ state: users.state })
            .from(users)
            .where(where)
            // Ties broken by id in the same direction, as on SQLite.
            .orderBy(direction(order), direction(binary(users.id)))
            .limit(query.limit)
            .offset(query.offset);
          return { total: counted?.total ?? 0, users: rows.map((row) => row.state) };
        })
        .catch(refuseReadPastBudget),
    );
  }
}

/** A read the server cancelled ran past the budget that limitReads set: the caller's query costs too much. */
function refuseReadPastBudget(error: unknown): never {
  throw isStatementCancelled(error) ? errors.listTooCostly(readBudgetMs) : error;
}
