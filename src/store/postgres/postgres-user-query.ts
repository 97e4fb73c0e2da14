// ListUsers in PostgreSQL: the filters over the users projection (user-list-condition.ts, with the same meaning as in
// SQLite), limited to what the caller may read, in code point order.
import { type SQLWrapper, asc, count, desc, sql } from "drizzle-orm";
import type { UserPage, UserQuery, UserQueryStore } from "../../domain/users/user-query.js";
import { type StorageGuard, unmonitoredStorage } from "../storage-health.js";
import { userListCondition } from "../user-list-condition.js";
import { userListOrder } from "../user-list-order.js";
import type { PgDb } from "./open-postgres.js";
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

export class PostgresUserQuery implements UserQueryStore {
  constructor(
    private readonly db: PgDb,
    private readonly storage: StorageGuard = unmonitoredStorage,
  ) {}

  async list(query: UserQuery): Promise<UserPage> {
    const where = listCondition(query);
    const order = listOrder(query.sortBy);
    const direction = query.ascending ? asc : desc;
    return this.storage.use(async () => {
      const [counted] = await this.db.select({ total: count() }).from(users).where(where);
      const rows = await this.db
        .select({ state: users.state })
        .from(users)
        .where(where)
        // Ties broken by id in the same direction, as on SQLite.
        .orderBy(direction(order), direction(binary(users.id)))
        .limit(query.limit)
        .offset(query.offset);
      return { total: counted?.total ?? 0, users: rows.map((row) => row.state) };
    });
  }
}
