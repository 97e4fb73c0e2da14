// What PostgreSQL cannot hold is refused where it arrives, so that a server on PostgreSQL answers as one on SQLite, and
// neither with an internal error: a control character (a NUL above all, which PostgreSQL cannot even compare) in an
// id, a filter value, a login name or a Kii path, on every surface and without credentials too; and a token's expiry
// past 9999-12-31T23:59:59Z, the last second proto3 JSON can write. Each case runs against a server process on each
// database, and none of them may write an error line.
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { type JsonObject, create, toBinary } from "@bufbuild/protobuf";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AddPersonalAccessTokenRequestSchema } from "../../src/gen/zitadel/user/v2/user_service_pb.js";
import { fixtures } from "../helpers/api-session.js";
import { type KiiApp, basic, createKiiApp, kiiFetch } from "../helpers/kii-client.js";
import { type PostgresDatabase, newPostgresDatabase } from "../helpers/postgres-database.js";
import { type MethodOf, type ServiceName, expectFailure, expectOk, protocolClient } from "../helpers/protocol-clients.js";
import { type ServerProcess, startServerProcess, stopAllServerProcesses } from "../helpers/server-process.js";

type Dialect = "sqlite" | "postgres";

interface Subject {
  server: ServerProcess;
  organizationId: string;
  serviceAccount: string;
  app: KiiApp;
}

let database: PostgresDatabase;
const directories: string[] = [];
const subjects = new Map<Dialect, Subject>();

const newDirectory = () => {
  const directory = mkdtempSync(join(tmpdir(), "verifyd-alike-"));
  directories.push(directory);
  return directory;
};

async function subjectOn(server: ServerProcess): Promise<Subject> {
  const setup = fixtures(server.url, server.adminToken);
  const organizationId = await setup.organization();
  const { userId } = await setup.machine(organizationId);
  return { server, organizationId, serviceAccount: userId, app: await createKiiApp(server, organizationId) };
}

beforeAll(async () => {
  database = await newPostgresDatabase();
  const postgres = await startServerProcess(database.url, {
    args: ["--admin-token-file", join(newDirectory(), "admin-token")],
    env: { VERIFYD_KEYS: `1:${randomBytes(32).toString("base64")}` },
  });
  const sqlite = await startServerProcess(join(newDirectory(), "verifyd.sqlite"));
  subjects.set("postgres", await subjectOn(postgres));
  subjects.set("sqlite", await subjectOn(sqlite));
}, 60_000);

afterAll(async () => {
  await stopAllServerProcesses();
  await database?.drop();
  for (const directory of directories) rmSync(directory, { recursive: true, force: true });
});

const dialects: Dialect[] = ["sqlite", "postgres"];

describe.each(dialects)("on %s", (dialect) => {
  const subject = () => subjects.get(dialect) as Subject;
  const call = (service: ServiceName, method: string, request: JsonObject) =>
    protocolClient("connect-json", subject().server.url, subject().server.adminToken).callService(service, method as MethodOf<ServiceName>, request);

  describe("a control character in an id or a filter value is TEXT_INVALID, naming the field", () => {
    const refused = (field: string) => ({
      code: 3,
      message: `${field} may not hold control characters (USER-t3xt1)`,
      errorInfo: { reason: "TEXT_INVALID", metadata: { field } },
    });

    it("in a REST path", async () => {
      const { server } = subject();
      const answer = await fetch(`${server.url}/v2/users/a%00b`, { headers: { authorization: `Bearer ${server.adminToken}` } });
      expect(answer.status).toBe(400);
      expect(await answer.json()).toMatchObject({ code: 3, message: "user_id may not hold control characters (USER-t3xt1)" });
    });

    it.each<[string, ServiceName, string, JsonObject, string]>([
      ["a user id", "UserService", "getUserByID", { userId: "a\u0000b" }, "user_id"],
      ["a user id with a tab", "UserService", "deleteUser", { userId: "a\tb" }, "user_id"],
      ["a user name query", "UserService", "listUsers", { queries: [{ userNameQuery: { userName: "a\u0000b" } }] }, "queries[0].user_name_query.user_name"],
      ["a user ids query", "UserService", "listUsers", { queries: [{ inUserIdsQuery: { userIds: ["1", "a\u0000b"] } }] }, "queries[0].in_user_ids_query.user_ids[1]"],
      [
        "an email query nested in an or query",
        "UserService",
        "listUsers",
        { queries: [{ orQuery: { queries: [{ emailQuery: { emailAddress: "a\u0000b@example.com" } }] } }] },
        "queries[0].or_query.queries[0].email_query.email_address",
      ],
      ["an organization name query", "OrganizationService", "listOrganizations", { queries: [{ nameQuery: { name: "a\u0000b" } }] }, "queries[0].name_query.name"],
      ["an organization id query", "OrganizationService", "listOrganizations", { queries: [{ idQuery: { id: "a\u0000b" } }] }, "queries[0].id_query.id"],
      ["a token id", "UserService", "removePersonalAccessToken", { userId: "1", tokenId: "a\u0000b" }, "token_id"],
      ["a token filter", "UserService", "listPersonalAccessTokens", { filters: [{ userIdFilter: { id: "a\u0000b" } }] }, "filters[0].user_id_filter.id"],
      [
        "an administrator's organization",
        "InternalPermissionService",
        "createAdministrator",
        { userId: "1", resource: { organizationId: "a\u0000b" }, roles: ["ORG_OWNER"] },
        "resource.organization_id",
      ],
      ["an organization's settings", "VerificationSettingsService", "getVerificationSettings", { organizationId: "a\u0000b" }, "organization_id"],
      ["a security log filter", "SecurityLogService", "listSecurityEvents", { actorId: "a\u0000b" }, "actor_id"],
      ["an app id", "ApplicationService", "deleteApplication", { appId: "a\u0000b" }, "app_id"],
    ])("in %s", async (_case, service, method, request, field) => {
      expect(expectFailure(await call(service, method, request))).toMatchObject(refused(field));
    });

    // Free text PostgreSQL cannot hold either: a NUL in these answered 500 there, and was stored on SQLite.
    it.each<[string, ServiceName, string, (subject: Subject) => JsonObject, string, string]>([
      [
        "a service account's description",
        "UserService",
        "createUser",
        ({ organizationId }) => ({ organizationId, machine: { name: "Probe", description: "a\u0000b" } }),
        "machine.description",
        "may not hold control characters other than line breaks and tabs",
      ],
      ["an application's name", "ApplicationService", "createApplication", ({ organizationId }) => ({ organizationId, name: "a\u0000b" }), "name", "may not hold control characters"],
    ])("in %s", async (_case, service, method, request, field, problem) => {
      expect(expectFailure(await call(service, method, request(subject())))).toMatchObject({
        code: 3,
        message: `${field} ${problem} (USER-t3xt1)`,
        errorInfo: { reason: "TEXT_INVALID", metadata: { field } },
      });
    });

    it("in a new user's organization", async () => {
      const request = { organization: { orgId: "a\u0000b" }, profile: { givenName: "Ada", familyName: "Lovelace" }, email: { email: "ada@example.com" } };
      expect(expectFailure(await call("UserService", "addHumanUser", request))).toMatchObject(refused("organization.org_id"));
    });
  });

  describe("Kii's API answers a control character in a path as an id nobody has", () => {
    it("an app id, before any credentials: 404 APP_NOT_FOUND", async () => {
      const { server } = subject();
      const answer = await kiiFetch(server.url, "POST", "/api/apps/ab%00cd/users", { contentType: "application/json", body: {} });
      expect(answer).toMatchObject({ status: 404, body: { errorCode: "APP_NOT_FOUND", appID: "ab\u0000cd" } });
      const token = await kiiFetch(server.url, "POST", "/api/apps/ab%00cd/oauth2/token", { authorization: basic("ab\u0000cd", "x") });
      expect(token).toMatchObject({ status: 404, body: { errorCode: "APP_NOT_FOUND" } });
    });

    it("a user id, with the app's key or a token: 404 USER_NOT_FOUND", async () => {
      const { app, server } = subject();
      for (const authorization of [app.basic, `Bearer ${server.adminToken}`]) {
        const answer = await app.call("GET", "/users/a%00b", { authorization });
        expect(answer, authorization).toMatchObject({ status: 404, body: { errorCode: "USER_NOT_FOUND", reason: "USER_NOT_FOUND" } });
      }
      const verify = await app.call("POST", "/users/a%00b/phone-number/verify", {
        authorization: app.basic,
        contentType: "application/json",
        body: { verificationCode: "123456" },
      });
      expect(verify).toMatchObject({ status: 404, body: { errorCode: "USER_NOT_FOUND" } });
    });
  });

  describe("a login name or organization id with a control character is OAuth's invalid_request", () => {
    const login = async (parameters: Record<string, string>) => {
      const answer = await fetch(`${subject().server.url}/oauth2/token`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ grant_type: "password", password: "correct horse battery", ...parameters }),
      });
      return { status: answer.status, body: await answer.json() };
    };

    it.each([
      ["an email address", { username: "x\u0000y@example.com" }, "username holds a control character; no login name does"],
      ["a username", { username: "ada\u0000" }, "username holds a control character; no login name does"],
      ["an organization id", { username: "ada", organization_id: "a\u0000b" }, "organization_id holds a control character; no id does"],
    ])("in %s", async (_case, parameters, description) => {
      expect(await login(parameters)).toEqual({ status: 400, body: { error: "invalid_request", error_description: description } });
    });

    it("at Kii's token endpoint too", async () => {
      const answer = await subject().app.login("x\u0000y@example.com", "correct horse battery");
      expect(answer).toMatchObject({ status: 400, body: { error: "invalid_request" } });
    });
  });

  describe("a personal access token's expiry", () => {
    const addToken = async (seconds: bigint) => {
      const { server, serviceAccount } = subject();
      const request = create(AddPersonalAccessTokenRequestSchema, { userId: serviceAccount, expirationDate: { seconds } });
      const answer = await fetch(`${server.url}/zitadel.user.v2.UserService/AddPersonalAccessToken`, {
        method: "POST",
        headers: { "content-type": "application/proto", authorization: `Bearer ${server.adminToken}` },
        body: toBinary(AddPersonalAccessTokenRequestSchema, request),
      });
      return { status: answer.status, body: answer.status === 200 ? undefined : await answer.json() };
    };

    it.each([
      ["the first second of year 10000", 253_402_300_800n],
      ["year 255,000", 8_000_000_000_000n],
      ["beyond any date", 10n ** 15n],
    ])("is refused at %s, naming the field and the limit", async (_case, seconds) => {
      expect(await addToken(seconds)).toMatchObject({
        status: 400,
        body: { code: "invalid_argument", message: "invalid AddPersonalAccessTokenRequest: expiration_date: must be at most 9999-12-31T23:59:59.000Z" },
      });
    });

    it("may be the last second of 9999, which every list of the account's tokens answers in JSON", async () => {
      expect(await addToken(253_402_300_799n)).toEqual({ status: 200, body: undefined });
      const listed = expectOk(await call("UserService", "listPersonalAccessTokens", { filters: [{ userIdFilter: { id: subject().serviceAccount } }] }));
      expect((listed.result as JsonObject[]).map((token) => token.expirationDate)).toContain("9999-12-31T23:59:59Z");
    });
  });

  // None of the above is a fault of ours: an error line would be one per request, stack trace and all.
  it("wrote no error line for any of it", async () => {
    // The log reaches the test through a pipe of its own, maybe after the last answer.
    await sleep(200);
    expect(subject().server.stderr.filter((line) => line.includes('"level":"error"'))).toEqual([]);
  });
});
