// ListUsers in PostgreSQL: the filters over the users projection, limited to what the caller may read, with the same
// meaning as in SQLite. The text filters are spelled for PostgreSQL here (src/store/text-condition.ts is SQLite's):
// no LIKE, whose % and _ a value may hold, case folded for ASCII letters only, and order by code point.
import { type SQL, type SQLWrapper, and, asc, count, desc, eq, inArray, not, or, sql } from "drizzle-orm";
import type { TextMatch } from "../../domain/text-match.js";
import type { UserFilter, UserPage, UserQuery, UserQueryStore } from "../../domain/users/user-query.js";
import { type StorageGuard, unmonitoredStorage } from "../storage-health.js";
import type { PgDb } from "./open-postgres.js";
import { users } from "./schema.js";

// What GetUserByID shows as the address: the verified one while a change is pending, else the pending one.
const visibleEmail = sql`coalesce(${users.state} #>> '{email,verified}', ${users.state} #>> '{email,pending}')`;
const visiblePhone = sql`coalesce(${users.state} #>> '{phone,verified}', ${users.state} #>> '{phone,pending}')`;

// SQLite compares text byte by byte; the database's collation might not.
const binary = (column: SQLWrapper) => sql`${column} COLLATE "C"`;

export class PostgresUserQuery implements UserQueryStore {
  constructor(
    private readonly db: PgDb,
    private readonly storage: StorageGuard = unmonitoredStorage,
  ) {}

  async list(query: UserQuery): Promise<UserPage> {
    const { organizations, self } = query.readable;
    const readable = organizations === undefined ? undefined : or(eq(users.id, self), inArray(users.resourceOwner, [...organizations]));
    const where = and(readable, ...query.filters.map(filterCondition));
    const order = query.sortBy === "username" ? binary(users.username) : users.createdAt;
    return this.storage.use(async () => {
      const [counted] = await this.db.select({ total: count() }).from(users).where(where);
      const rows = await this.db
        .select({ state: users.state })
        .from(users)
        .where(where)
        .orderBy(query.ascending ? asc(order) : desc(order), asc(binary(users.id)))
        .limit(query.limit)
        .offset(query.offset);
      return { total: counted?.total ?? 0, users: rows.map((row) => row.state) };
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
      return and(sql`true`, ...filter.filters.map(filterCondition));
    case "or":
      return or(sql`false`, ...filter.filters.map(filterCondition));
    case "not":
      return not(filterCondition(filter.filter) ?? sql`true`);
  }
}

/**
 * PostgreSQL's lower() folds every letter its locale knows, so "ignoring case" translates A-Z alone, on both sides, as
 * SQLite's lower() and matchesText do.
 */
function textCondition(column: SQLWrapper, match: TextMatch, value: string): SQL {
  const ignoreCase = match.endsWith("IgnoreCase");
  const text = ignoreCase ? sql`translate(${column}, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz')` : sql`${column}`;
  const wanted = ignoreCase ? value.replace(/[A-Z]/g, (letter) => letter.toLowerCase()) : value;
  const method = match.replace("IgnoreCase", "");
  // Every text starts with, ends with and contains the empty string.
  if (wanted === "" && method !== "equals") return sql`true`;
  switch (method) {
    case "startsWith":
      return sql`starts_with(${text}, ${wanted})`;
    case "endsWith":
      return sql`right(${text}, char_length(${wanted}::text)) = ${wanted}`;
    case "contains":
      return sql`strpos(${text}, ${wanted}) > 0`;
    default:
      return sql`${text} = ${wanted}`;
  }
}
