// ListUsers in SQLite: the filters over the users projection, limited to what the caller may read. better-sqlite3 reads
// on the thread that serves every call, so a list's two reads (its count and its page) each end within a budget
// (errors.listTooCostly), and list reads run one at a time, each after a pause as long as the read before it took: lists
// take half of the thread at most, however many callers send, and a health check, a new connection or another call
// that arrives meanwhile is served in the pause.
import { setTimeout as sleep } from "node:timers/promises";
import { and, asc, count, desc, sql } from "drizzle-orm";
import { errors } from "../../domain/errors.js";
import type { UserPage, UserQuery, UserQueryStore } from "../../domain/users/user-query.js";
import type { Db } from "./open-database.js";
import { users } from "./schema.js";
import { driverError } from "../storage-failure.js";
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

/**
 * How long one read may hold the thread: under a second, so that a health check with a one-second timeout (Kubernetes'
 * default) still gets its answer, and enough for one contains query on the email of 300,000 users (0.3 s a read).
 */
const readBudgetMs = 500;

// The end of the running read's budget. Statements run one at a time on this thread, so one deadline serves them all.
let readDeadline = Number.POSITIVE_INFINITY;
const budgetSpent = new Error("the list's read ran past its budget");
/** Evaluated by a list's WHERE for each user it looks at: SQLite lets nothing else interrupt a running statement. */
const budgetCheck = "verifyd_list_read_within_budget";
const withinBudget = sql.raw(`${budgetCheck}()`);

// The last list read queued, and when the next may start: as long after the last one ended as that one took.
let lastRead: Promise<unknown> = Promise.resolve();
let nextReadAt = 0;

export class SqliteUserQuery implements UserQueryStore {
  constructor(
    private readonly db: Db,
    private readonly storage: StorageGuard = unmonitoredStorage,
  ) {
    db.$client.function(budgetCheck, { deterministic: false }, endReadPastBudget);
  }

  async list(query: UserQuery): Promise<UserPage> {
    const where = and(withinBudget, listCondition(query));
    const order = listOrder(query.sortBy);
    const direction = query.ascending ? asc : desc;
    const total = await this.read(() => this.db.select({ total: count() }).from(users).where(where).get()?.total ?? 0);
    const rows = await this.read(() =>
      this.db
        .select({ state: users.state })
        .from(users)
        .where(where)
        // Ties broken by id in the same direction, so that users_by_organization_and_creation gives the order.
        .orderBy(direction(order), direction(users.id))
        .limit(query.limit)
        .offset(query.offset)
        .all(),
    );
    return { total, users: rows.map((row) => row.state) };
  }

  /** Runs a read once the reads queued before it and their pauses are done; past its budget it refuses the list. */
  private read<T>(statement: () => T): Promise<T> {
    const result = lastRead
      .then(() => sleep(nextReadAt - performance.now()))
      .then(() => this.storage.use(() => withinReadBudget(statement)));
    lastRead = result.catch(() => undefined);
    return result;
  }
}

function withinReadBudget<T>(statement: () => T): T {
  const startedAt = performance.now();
  readDeadline = startedAt + readBudgetMs;
  try {
    return statement();
  } catch (error) {
    throw driverError(error) === budgetSpent ? errors.listTooCostly(readBudgetMs) : error;
  } finally {
    readDeadline = Number.POSITIVE_INFINITY;
    const endedAt = performance.now();
    nextReadAt = endedAt + (endedAt - startedAt);
  }
}

function endReadPastBudget(): number {
  if (performance.now() > readDeadline) throw budgetSpent;
  return 1;
}
