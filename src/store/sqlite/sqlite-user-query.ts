// ListUsers in SQLite: the filters over the users projection, limited to what the caller may read.
import { asc, count, desc, sql } from "drizzle-orm";
import type { UserPage, UserQuery, UserQueryStore } from "../../domain/users/user-query.js";
import type { Db } from "./open-database.js";
import { users } from "./schema.js";
import { type StorageGuard, unmonitoredStorage } from "../storage-health.js";
import { userListCondition } from "../user-list-condition.js";
import { sqliteConditions } from "./sqlite-text-condition.js";

const listCondition = userListCondition(
  users,
  {
    // What GetUserByID shows as the address: the verified one while a change is pending, else the pending one.
    email: sql`coalesce(json_extract(${users.state}, '$.email.verified'), json_extract(${users.state}, '$.email.pending'))`,
    phone: sql`coalesce(json_extract(${users.state}, '$.phone.verified'), json_extract(${users.state}, '$.phone.pending'))`,
  },
  sqliteConditions,
);

export class SqliteUserQuery implements UserQueryStore {
  constructor(
    private readonly db: Db,
    private readonly storage: StorageGuard = unmonitoredStorage,
  ) {}

  async list(query: UserQuery): Promise<UserPage> {
    const where = listCondition(query);
    const order = query.sortBy === "username" ? users.username : users.createdAt;
    return this.storage.use(() => {
      const total = this.db.select({ total: count() }).from(users).where(where).get()?.total ?? 0;
      const rows = this.db
        .select({ state: users.state })
        .from(users)
        .where(where)
        .orderBy(query.ascending ? asc(order) : desc(order), asc(users.id))
        .limit(query.limit)
        .offset(query.offset)
        .all();
      return { total, users: rows.map((row) => row.state) };
    });
  }
}
