// ListUsers in SQLite: the filters over the users projection, limited to what the caller may read.
import { type SQL, and, asc, count, desc, eq, inArray, not, or, sql } from "drizzle-orm";
import type { UserFilter, UserPage, UserQuery, UserQueryStore } from "../../domain/users/user-query.js";
import type { Db } from "./open-database.js";
import { users } from "./schema.js";
import { type StorageGuard, unmonitoredStorage } from "../storage-health.js";
import { textCondition } from "../text-condition.js";

// What GetUserByID shows as the address: the verified one while a change is pending, else the pending one.
const visibleEmail = sql`coalesce(json_extract(${users.state}, '$.email.verified'), json_extract(${users.state}, '$.email.pending'))`;
const visiblePhone = sql`coalesce(json_extract(${users.state}, '$.phone.verified'), json_extract(${users.state}, '$.phone.pending'))`;

export class SqliteUserQuery implements UserQueryStore {
  constructor(
    private readonly db: Db,
    private readonly storage: StorageGuard = unmonitoredStorage,
  ) {}

  async list(query: UserQuery): Promise<UserPage> {
    const { organizations, self } = query.readable;
    const readable = organizations === undefined ? undefined : or(eq(users.id, self), inArray(users.resourceOwner, [...organizations]));
    const where = and(readable, ...query.filters.map(filterCondition));
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

function filterCondition(filter: UserFilter): SQL | undefined {
  switch (filter.kind) {
    case "organization":
      return eq(users.resourceOwner, filter.organizationId);
    case "username":
      return textCondition(users.username, filter.match, filter.username);
    case "email":
      return textCondition(visibleEmail, filter.match, filter.email);
    case "phone":
      return textCondition(visiblePhone, filter.match, filter.phone);
    case "status":
      return eq(users.status, filter.status);
    case "type":
      return eq(users.kind, filter.type);
    case "ids":
      return inArray(users.id, [...filter.ids]);
    // An empty and holds for everyone, an empty or for no one.
    case "and":
      return and(sql`1`, ...filter.filters.map(filterCondition));
    case "or":
      return or(sql`0`, ...filter.filters.map(filterCondition));
    case "not":
      return not(filterCondition(filter.filter) ?? sql`1`);
  }
}
