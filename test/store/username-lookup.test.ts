// A ListUsers query by username, exactly or ignoring case, is looked up through the index of usernames' keys in both
// dialects rather than compared with every user. Found at a million users, where that comparison took longer than a
// list's read may and the query (EQUALS, the default of ZITADEL's clients) was refused as too costly; no test can
// afford a million users, so this asks each database how it would run the query. A wrong spelling of the key
// (another function, another collation) is a plan without the index.
import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import type { TextMatch } from "../../src/domain/text-match.js";
import type { UserQuery } from "../../src/domain/users/user-query.js";
import { openPostgres } from "../../src/store/postgres/open-postgres.js";
import { postgresConditions } from "../../src/store/postgres/postgres-text-condition.js";
import { users as postgresUsers } from "../../src/store/postgres/schema.js";
import { sqliteConditions } from "../../src/store/sqlite/sqlite-text-condition.js";
import { users as sqliteUsers } from "../../src/store/sqlite/schema.js";
import { userListCondition } from "../../src/store/user-list-condition.js";
import { createPostgresDatabase } from "../helpers/postgres-database.js";
import { openTemp } from "./support/temp-database.js";

const methods: TextMatch[] = ["equals", "equalsIgnoreCase"];
// Everyone readable, as for an IAM_OWNER.
const byUsername = (match: TextMatch): UserQuery => ({
  readable: {},
  filters: [{ kind: "username", match, username: "Ada" }],
  offset: 0,
  limit: 10,
  ascending: true,
  sortBy: "creation",
});
// Not what this asks about: only the username filter is used.
const noAddresses = { email: sql`NULL`, phone: sql`NULL` };

describe.each(methods)("a query by username (%s)", (match) => {
  it("on SQLite, searches users by the index of usernames", () => {
    const { db } = openTemp();
    const condition = userListCondition(sqliteUsers, noAddresses, sqliteConditions)(byUsername(match));
    const query = db.select({ id: sqliteUsers.id }).from(sqliteUsers).where(condition).toSQL();
    const plan = db.$client.prepare(`EXPLAIN QUERY PLAN ${query.sql}`).all(...(query.params as unknown[])) as { detail: string }[];
    expect(plan.map((step) => step.detail).join("\n")).toMatch(/SEARCH users USING INDEX users_by_username/);
  });

  it("on PostgreSQL, can use the index of usernames", async () => {
    const handle = await openPostgres(await createPostgresDatabase());
    try {
      const condition = userListCondition(postgresUsers, noAddresses, postgresConditions)(byUsername(match));
      const query = handle.db.select({ id: postgresUsers.id }).from(postgresUsers).where(condition).toSQL();
      const client = await handle.db.$client.connect();
      try {
        // An empty table is read whole whatever its indexes: asked not to, the planner shows whether one serves.
        await client.query("SET enable_seqscan = off");
        const plan = await client.query<{ "QUERY PLAN": string }>(`EXPLAIN ${query.sql}`, query.params as unknown[]);
        expect(plan.rows.map((row) => row["QUERY PLAN"]).join("\n")).toMatch(/users_by_username/);
      } finally {
        client.release();
      }
    } finally {
      await handle.close();
    }
  });
});
