// ListUsers over an organization of 400,000 users, on SQLite and on PostgreSQL, as a white-box review attacked it: one
// costly list held a SQLite server for 18 s (its health check too), and on PostgreSQL ran into the statement timeout,
// which reported the storage failing and made the server unready; a dozen at once took every pooled connection. Now a
// list's reads each end within a budget, past which the caller is refused, and a caller runs two lists at most at once.
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { api, fixtures, rest } from "../helpers/api-session.js";
import { type PostgresDatabase, newPostgresDatabase } from "../helpers/postgres-database.js";
import { type ServerProcess, startServerProcess, stopAllServerProcesses } from "../helpers/server-process.js";
import { addUserCopies } from "../helpers/user-copies.js";

const copies = 400_000;

describe.each(["sqlite", "postgres"] as const)("ListUsers over %s, on an organization of 400,000 users", (dialect) => {
  let directory: string;
  let postgres: PostgresDatabase | undefined;
  let server: ServerProcess;
  let viewer: { userId: string; token: string };
  let template: string;

  beforeAll(async () => {
    directory = mkdtempSync(join(tmpdir(), "verifyd-list-budget-"));
    postgres = dialect === "postgres" ? await newPostgresDatabase() : undefined;
    const database = postgres?.url ?? join(directory, "verifyd.sqlite");
    const options = {
      args: postgres ? ["--admin-token-file", join(directory, "admin-token")] : [],
      env: postgres ? { VERIFYD_KEYS: `1:${randomBytes(32).toString("base64")}` } : {},
    };
    const first = await startServerProcess(database, options);
    const setup = fixtures(first.url, first.adminToken);
    const organization = await setup.organization();
    template = await setup.person(organization);
    viewer = await setup.member(organization, ["ORG_USER_VIEWER"]);
    // With the server stopped: a write of this size would keep the server's own writes waiting past their timeout.
    await first.stop();
    await addUserCopies(database, template, copies);
    server = await startServerProcess(database, options);
  }, 120_000);

  afterAll(async () => {
    await stopAllServerProcesses();
    await postgres?.drop();
    rmSync(directory, { recursive: true, force: true });
  });

  const everyone = String(copies + 2);
  const list = (body: unknown) => rest(server.url, viewer.token, "POST", "/v2/users", body);
  // Ten text queries, as many as one call may carry, that no user matches: each is compared with every user.
  const tenEmailQueries = {
    orQuery: {
      queries: Array.from({ length: 10 }, (_, index) => ({
        emailQuery: { emailAddress: `nobody-${index}@`, method: "TEXT_QUERY_METHOD_CONTAINS_IGNORE_CASE" },
      })),
    },
  };

  it("a list that needs more than its read budget is refused as the caller's, ResourceExhausted, and the server stays ready", async () => {
    const refused = await list({ query: { limit: 1 }, queries: [tenEmailQueries] });
    expect(refused.status).toBe(429);
    expect(refused.reason).toBe("LIST_TOO_COSTLY");
    expect(refused.body.code).toBe(8);
    expect(refused.body.message).toMatch(/^The list needs more than \d+ ms to read; narrow it .* \(QUERY-c0stL\)$/);

    expect((await fetch(`${server.url}/readyz`)).status).toBe(200);
    expect(server.stderr.filter((line) => line.includes("storage failing"))).toEqual([]);
    // Narrower lists, and the organization's pages in creation order with their exact total, still answer.
    const one = await list({ queries: [{ inUserIdsQuery: { userIds: ["copy-12345"] } }] });
    expect(one.body.result.map((user: { userId: string }) => user.userId)).toEqual(["copy-12345"]);
    const lastPage = await list({ query: { offset: String(copies - 8), limit: 10, asc: true } });
    expect(lastPage.status).toBe(200);
    expect(lastPage.body.details.totalResult).toBe(everyone);
    expect(lastPage.body.result).toHaveLength(10);
  });

  it("finds a user by username among them, exactly and ignoring case", async () => {
    const username = (method: string, userName: string) => list({ queries: [{ userNameQuery: { userName, method } }] });
    const found = (answer: Awaited<ReturnType<typeof list>>) => ({
      status: answer.status,
      users: (answer.body.result ?? []).map((user: { userId: string }) => user.userId),
    });
    // The index finds the key; the filter still decides (test/store/username-lookup.test.ts asks for the plan).
    expect(found(await username("TEXT_QUERY_METHOD_EQUALS", "copy-user-377777"))).toEqual({ status: 200, users: ["copy-377777"] });
    expect(found(await username("TEXT_QUERY_METHOD_EQUALS_IGNORE_CASE", "Copy-USER-377777"))).toEqual({ status: 200, users: ["copy-377777"] });
    // Exactly means exactly: the key matches, the name does not.
    expect(found(await username("TEXT_QUERY_METHOD_EQUALS", "Copy-User-377777"))).toEqual({ status: 200, users: [] });
  });

  it("a caller's lists beyond two at once are refused with ResourceExhausted; its two, and other callers' calls, are answered", async () => {
    // Twelve at once on one HTTP/2 connection, as the review's flood: it took every pooled PostgreSQL connection. Each
    // counts the organization, which keeps the first two running while the others come.
    const { users } = api(server.url, viewer.token, "grpc");
    const calls = await Promise.allSettled(Array.from({ length: 12 }, () => users.listUsers({ query: { limit: 1 } })));
    const administrators = await api(server.url, server.adminToken, "grpc").users.getUserByID({ userId: template });

    const answered = calls.flatMap((call) => (call.status === "fulfilled" ? [call.value.details?.totalResult] : []));
    expect(answered).toEqual([BigInt(everyone), BigInt(everyone)]);
    const refusals = calls.flatMap((call) => (call.status === "rejected" ? [call.reason as { code: number; rawMessage: string }] : []));
    expect(refusals).toHaveLength(10);
    for (const refusal of refusals) {
      expect(refusal).toMatchObject({
        code: 8,
        rawMessage: "at most 2 list calls of one caller run at once; send this one when another has answered",
      });
    }
    expect(administrators.user?.userId).toBe(template);
  });
});
