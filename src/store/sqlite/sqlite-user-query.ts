// ListUsers in SQLite: the filters over the users projection, limited to what the caller may read.
import { asc, count, desc, sql } from "drizzle-orm";
import type { UserPage, UserQuery, UserQueryStore } from "../../domain/users/user-query.js";
import type { Db } from "./open-database.js";
import { users } from "./schema.js";
import { type StorageGuard, unmonitoredStorage } from "../storage-health.js";
import { userListCondition } from "../user-list-condition.js";
import { userListOrder } from "../user-list-order.js";
import { sqliteConditions } from "./sqlite-text-condition.js";

// What GetUserByID shows as the address: the verified one while a change is pending, else the pending one.
const visible = {
  email: sql`coalesce(json_extract(${users.state}, '$.email.verified'), json_extract(${users.state}, '$.email.pending'))`,
  phone: sql`coalesce(json_extract(${users.state}, '$.phone.verified'), json_extract(${users.state}, '$.phone.pending'))`,
};
const listCondition = userListCondition(users, visible, sqliteConditions);
const listOrder = userListOrder(users, {
  profileField: (name) => sql`json_extract(${users.state}, ${`$.profile.${name}`})`,
  email: visible.email,
  // SQLite's default collation, BINARY, already compares bytes.
  bytewise: (text) => sql`${text}`,
});

export class SqliteUserQuery implements UserQueryStore {
  constructor(
    private readonly db: Db,
    private readonly storage: StorageGuard = unmonitoredStorage,
  ) {}

  async list(query: UserQuery): Promise<UserPage> {
    const where = listCondition(query);
    const order = listOrder(query.sortBy);
    const direction = query.ascending ? asc : desc;
    return this.storage.use(() => {
      const total = this.db.select({ total: count() }).from(users).where(where).get()?.total ?? 0;
      const rows = this.db
        .select({ state: users.state })
        .from(users)
        .where(where)
        // Ties broken by id in the same direction, so that users_by_organization_and_creation gives the order.
        .orderBy(direction(order), direction(users.id))
        .limit(query.limit)
        .offset(query.offset)
        .all();
      return { total, users: rows.map((row) => row.state) };
    });
  }
}
