// Passwords and POST /oauth2/token through the real server: users given a password (or an argon2id hash) through
// the API log in, form-encoded or JSON, and the token they get works on gRPC and REST; SetPassword as oneself and
// as a manager; logging in by phone only while it is verified. Few passworded users: each hash costs ~60 ms.
import { type Algorithm, hash } from "@node-rs/argon2";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { api, failure, fixtures, passwordLogin, rest, unique, uniqueMobile } from "../helpers/api-session.js";
import { type TestServer, startTestServer } from "../helpers/test-server.js";

let server: TestServer;
let setup: ReturnType<typeof fixtures>;
let organization: string;

beforeAll(async () => {
  server = await startTestServer();
  setup = fixtures(server.url, server.adminToken);
  organization = await setup.organization();
});
afterAll(async () => {
  await server?.close();
});

// @node-rs/argon2's Algorithm is an ambient const enum, which isolated modules cannot read: its values.
const argon2i: Algorithm = 1;
const argon2id: Algorithm = 2;
const invalidGrant = { status: 400, body: { error: "invalid_grant" } };
const loginTtlSeconds = () => server.config.tokens.loginTtlMs / 1000;

describe("logging in with a password given to AddHumanUser", () => {
  it("answers {id, access_token, expires_in, token_type} to a form and to JSON; the token works on gRPC and REST", async () => {
    const username = unique("login-ada");
    const password = "correct horse battery";
    const userId = await setup.person(organization, { username, password });

    for (const encoding of ["form", "json"] as const) {
      const answer = await passwordLogin(server.url, username, password, encoding);
      expect(answer).toEqual({
        status: 200,
        body: { id: userId, access_token: expect.stringMatching(/^[A-Za-z0-9_-]{43,}$/), expires_in: loginTtlSeconds(), token_type: "bearer" },
      });
      const token = answer.body.access_token as string;
      const viaGrpc = await api(server.url, token, "grpc").users.getUserByID({ userId });
      expect(viaGrpc.user?.username).toBe(username);
      const viaRest = await rest(server.url, token, "GET", `/v2/users/${userId}`);
      expect(viaRest).toMatchObject({ status: 200, body: { user: { userId } } });
    }
    // The email address is verified, so it logs in too; a wrong password does not.
    expect((await passwordLogin(server.url, `${username}@example.com`, password)).body.id).toBe(userId);
    expect(await passwordLogin(server.url, username, "wrong horse battery")).toMatchObject(invalidGrant);
    // The password is nowhere in what GetUserByID shows.
    const shown = await rest(server.url, server.adminToken, "GET", `/v2/users/${userId}`);
    expect(JSON.stringify(shown.body)).not.toMatch(/horse|argon2/);
  });

  it("the login token expires after the login lifetime", async () => {
    const username = unique("login-expiring");
    const password = "expiring password";
    const userId = await setup.person(organization, { username, password });
    const token = (await passwordLogin(server.url, username, password)).body.access_token as string;
    server.clock.advance(server.config.tokens.loginTtlMs - 1);
    await api(server.url, token, "grpc").users.getUserByID({ userId });
    server.clock.advance(1);
    expect(await failure(api(server.url, token, "grpc").users.getUserByID({ userId }))).toMatchObject({ code: 16 });
  });

  it("takes an argon2id hash in PHC format as hashed_password, over gRPC and REST", async () => {
    const password = "imported from elsewhere";
    const encoded = await hash(password, { algorithm: argon2id, memoryCost: 4096, timeCost: 1, parallelism: 1 });
    expect(encoded).toMatch(/^\$argon2id\$/);

    const viaGrpc = unique("login-hashed");
    await api(server.url, server.adminToken, "grpc").users.addHumanUser({
      username: viaGrpc,
      organization: { org: { case: "orgId", value: organization } },
      profile: { givenName: "Hash", familyName: "Ed" },
      email: { email: `${viaGrpc}@example.com` },
      passwordType: { case: "hashedPassword", value: { hash: encoded } },
    });
    expect((await passwordLogin(server.url, viaGrpc, password)).status).toBe(200);

    const viaRest = unique("login-hashed-rest");
    const added = await rest(server.url, server.adminToken, "POST", "/v2/users/human", {
      username: viaRest,
      organization: { orgId: organization },
      profile: { givenName: "Hash", familyName: "Rest" },
      email: { email: `${viaRest}@example.com` },
      hashedPassword: { hash: encoded },
    });
    expect(added.status).toBe(200);
    expect((await passwordLogin(server.url, viaRest, password, "json")).body.id).toBe(added.body.userId);
  });

  it("refuses a hash that is not argon2id: HASHED_PASSWORD_UNSUPPORTED", async () => {
    const bcrypt = "$2b$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy";
    const argon2iHash = await hash("whatever you like", { algorithm: argon2i, memoryCost: 1024, timeCost: 1 });
    for (const [protocol, encoded] of [
      ["grpc", bcrypt],
      ["connect", argon2iHash],
      ["grpc-web", "not a hash at all"],
    ] as const) {
      const refused = await failure(
        api(server.url, server.adminToken, protocol).users.addHumanUser({
          profile: { givenName: "Bad", familyName: "Hash" },
          email: { email: `${unique("bad-hash")}@example.com` },
          passwordType: { case: "hashedPassword", value: { hash: encoded } },
        }),
      );
      expect(refused).toMatchObject({ code: 3, reason: "HASHED_PASSWORD_UNSUPPORTED" });
    }
    const viaRest = await rest(server.url, server.adminToken, "POST", "/v2/users/human", {
      profile: { givenName: "Bad", familyName: "Hash" },
      email: { email: `${unique("bad-hash")}@example.com` },
      hashedPassword: { hash: bcrypt },
    });
    expect(viaRest).toMatchObject({ status: 400, reason: "HASHED_PASSWORD_UNSUPPORTED" });
  });

  it("refuses a password shorter than 8 characters: PASSWORD_TOO_WEAK, on AddHumanUser, CreateUser and SetPassword", async () => {
    const weak = { code: 3, reason: "PASSWORD_TOO_WEAK" };
    const { users } = api(server.url, server.adminToken, "grpc");
    expect(
      await failure(
        users.addHumanUser({
          profile: { givenName: "Weak", familyName: "One" },
          email: { email: `${unique("weak")}@example.com` },
          passwordType: { case: "password", value: { password: "1234567" } },
        }),
      ),
    ).toMatchObject(weak);
    expect(
      await failure(
        api(server.url, server.adminToken, "grpc-web").users.createUser({
          organizationId: organization,
          userType: {
            case: "human",
            value: {
              profile: { givenName: "Weak", familyName: "Two" },
              email: { email: `${unique("weak")}@example.com` },
              passwordType: { case: "password", value: { password: "short" } },
            },
          },
        }),
      ),
    ).toMatchObject(weak);
    const userId = await setup.person(organization);
    expect(await failure(users.setPassword({ userId, newPassword: { password: "seven77" } }))).toMatchObject(weak);
    const viaRest = await rest(server.url, server.adminToken, "POST", `/v2/users/${userId}/password`, { newPassword: { password: "tiny" } });
    expect(viaRest).toMatchObject({ status: 400, reason: "PASSWORD_TOO_WEAK" });
  });
});

describe("SetPassword", () => {
  it("by oneself needs the right current password; afterwards the old one no longer logs in", async () => {
    const username = unique("login-self");
    const first = "first password";
    const second = "second password";
    const userId = await setup.person(organization, { username, password: first });
    const token = (await passwordLogin(server.url, username, first)).body.access_token as string;
    const { users } = api(server.url, token, "grpc");

    expect(
      await failure(users.setPassword({ userId, newPassword: { password: second }, verification: { case: "currentPassword", value: "not the password" } })),
    ).toMatchObject({ code: 3, reason: "PASSWORD_INVALID" });
    // Without the current password, being oneself is not enough (and this person holds no role).
    expect(await failure(users.setPassword({ userId, newPassword: { password: second } }))).toMatchObject({ code: 7, reason: "PERMISSION_DENIED" });

    const changed = await rest(server.url, token, "POST", `/v2/users/${userId}/password`, {
      newPassword: { password: second },
      currentPassword: first,
    });
    expect(changed.status).toBe(200);
    expect(await passwordLogin(server.url, username, first)).toMatchObject(invalidGrant);
    expect((await passwordLogin(server.url, username, second, "json")).body.id).toBe(userId);
  });

  it("by a manager of the user's organization needs no current password; a viewer may not", async () => {
    const username = unique("login-managed");
    const userId = await setup.person(organization, { username, password: "original password" });
    const manager = await setup.member(organization, ["ORG_USER_MANAGER"]);
    const viewer = await setup.member(organization, ["ORG_USER_VIEWER"]);
    expect(
      await failure(api(server.url, viewer.token, "grpc").users.setPassword({ userId, newPassword: { password: "viewer's choice" } })),
    ).toMatchObject({ code: 7, reason: "PERMISSION_DENIED" });
    await api(server.url, manager.token, "connect").users.setPassword({ userId, newPassword: { password: "manager's choice" } });
    expect(await passwordLogin(server.url, username, "original password")).toMatchObject(invalidGrant);
    expect((await passwordLogin(server.url, username, "manager's choice")).status).toBe(200);
  });

  it("ends the login tokens the old password gave out: all but the caller's own when changed by oneself, all when reset", async () => {
    const username = unique("login-stolen");
    const userId = await setup.person(organization, { username, password: "the old password" });
    const login = async (password: string) => (await passwordLogin(server.url, username, password)).body.access_token as string;
    const works = async (token: string) => (await rest(server.url, token, "GET", `/v2/users/${userId}`)).status;
    const thief = await login("the old password");
    const own = await login("the old password");
    const manager = await setup.member(organization, ["ORG_USER_MANAGER"]);

    const changed = await rest(server.url, own, "POST", `/v2/users/${userId}/password`, {
      newPassword: { password: "the new password" },
      currentPassword: "the old password",
    });
    expect(changed.status).toBe(200);
    expect(await works(thief)).toBe(401);
    expect(await works(own)).toBe(200);
    expect(await works(manager.token)).toBe(200);

    const later = await login("the new password");
    await api(server.url, manager.token, "grpc").users.setPassword({ userId, newPassword: { password: "reset by the manager" } });
    expect([await works(own), await works(later)]).toEqual([401, 401]);
    expect(await works(await login("reset by the manager"))).toBe(200);

    const logged = await rest(server.url, server.adminToken, "POST", "/verifyd.security.v1.SecurityLogService/ListSecurityEvents", {
      userId,
      kinds: ["token.removed"],
    });
    expect((logged.body.result as { actorId: string; detail: object }[]).map(({ actorId, detail }) => ({ actorId, detail }))).toEqual(
      expect.arrayContaining([
        { actorId: userId, detail: { kind: "login", count: "1", cause: "password.changed" } },
        { actorId: manager.userId, detail: { kind: "login", count: "2", cause: "password.changed" } },
      ]),
    );
  });

  it("refuses a service account: USER_NOT_HUMAN", async () => {
    const account = await setup.machine(organization);
    const refused = await failure(
      api(server.url, server.adminToken, "grpc").users.setPassword({ userId: account.userId, newPassword: { password: "machines have no passwords" } }),
    );
    expect(refused).toMatchObject({ code: 9, reason: "USER_NOT_HUMAN" });
  });
});

describe("logging in by email address", () => {
  it("finds a username in any case of its letters, and counts wrong passwords for all its spellings as one", async () => {
    const password = "username password";
    const username = unique("Grace.Hopper");
    const { users } = api(server.url, server.adminToken, "grpc");
    const { userId } = await users.addHumanUser({
      username,
      organization: { org: { case: "orgId", value: organization } },
      profile: { givenName: "Grace", familyName: "Hopper" },
      phone: { phone: uniqueMobile(), verification: { case: "returnCode", value: {} } },
      passwordType: { case: "password", value: { password } },
    });
    for (const spelling of [username, username.toLowerCase(), username.toUpperCase()]) {
      expect((await passwordLogin(server.url, spelling, password)).body.id, spelling).toBe(userId);
    }
    // A throttle per spelling would give a guesser 2^n times the attempts.
    const spellings = [...username].map((_, i) => `${username.slice(0, i)}${username.charAt(i).toUpperCase()}${username.slice(i + 1)}`);
    for (const spelling of spellings.slice(0, 5)) expect(await passwordLogin(server.url, spelling, "wrong password!")).toMatchObject(invalidGrant);
    expect((await passwordLogin(server.url, username.toLowerCase(), password)).status).toBe(429);
  });

  it("finds a verified address in any letter case, and counts wrong passwords for all its spellings as one", async () => {
    const password = "mailbox password";
    const local = unique("Ada.Mailbox");
    const { users } = api(server.url, server.adminToken, "grpc");
    const { userId } = await users.addHumanUser({
      organization: { org: { case: "orgId", value: organization } },
      profile: { givenName: "Ada", familyName: "Mailbox" },
      email: { email: `${local}@Example.com`, verification: { case: "isVerified", value: true } },
      passwordType: { case: "password", value: { password } },
    });
    for (const spelling of [`${local}@example.com`, `${local.toLowerCase()}@example.com`, `${local.toUpperCase()}@EXAMPLE.COM`]) {
      expect((await passwordLogin(server.url, spelling, password)).body.id, spelling).toBe(userId);
    }
    // Five wrong passwords under five spellings lock the address as five under one would (README, Limits).
    const spellings = [...local].map((_, i) => `${local.slice(0, i)}${local.charAt(i).toUpperCase()}${local.slice(i + 1)}@example.com`);
    for (const spelling of spellings.slice(0, 5)) expect(await passwordLogin(server.url, spelling, "wrong password!")).toMatchObject(invalidGrant);
    const throttled = await passwordLogin(server.url, `${local.toLowerCase()}@example.com`, password);
    expect(throttled.status).toBe(429);
  });
});

describe("logging in by phone number", () => {
  it("works with a verified phone, not with an unverified one", async () => {
    const password = "phone password";
    const phone = uniqueMobile();
    const { users } = api(server.url, server.adminToken, "grpc");
    const { userId, phoneCode } = await users.addHumanUser({
      organization: { org: { case: "orgId", value: organization } },
      profile: { givenName: "Phoebe", familyName: "Phone" },
      phone: { phone, verification: { case: "returnCode", value: {} } },
      passwordType: { case: "password", value: { password } },
    });
    expect(await passwordLogin(server.url, phone, password)).toMatchObject(invalidGrant);
    await users.verifyPhone({ userId, verificationCode: phoneCode as string });
    const answer = await passwordLogin(server.url, phone, password, "json");
    expect(answer).toMatchObject({ status: 200, body: { id: userId, token_type: "bearer" } });
  });

  it("a service account cannot log in with a password (invalid_grant)", async () => {
    const account = await setup.machine(organization, unique("login-robot"));
    const { user } = await setup.admin.users.getUserByID({ userId: account.userId });
    expect(await passwordLogin(server.url, user?.username as string, "any password at all")).toMatchObject(invalidGrant);
  });
});

describe("--logins-need-organization", () => {
  it("refuses a login without organization_id as an invalid request, which no other organization's users can disturb", async () => {
    const strict = await startTestServer(["--logins-need-organization"]);
    try {
      const strictSetup = fixtures(strict.url, strict.adminToken);
      const home = await strictSetup.organization();
      const username = unique("scoped");
      const password = "correct horse battery";
      const userId = await strictSetup.person(home, { username, password });
      // Another organization's user of the same name, which would make an unscoped login ambiguous.
      await strictSetup.person(await strictSetup.organization(), { username, password: "another one's password" });

      expect(await passwordLogin(strict.url, username, password)).toEqual({
        status: 400,
        body: { error: "invalid_request", error_description: expect.stringContaining("organization_id is required") },
      });
      const scoped = await fetch(`${strict.url}/oauth2/token`, {
        method: "POST",
        body: new URLSearchParams({ grant_type: "password", username, password, organization_id: home }),
      });
      expect({ status: scoped.status, id: ((await scoped.json()) as { id?: string }).id }).toEqual({ status: 200, id: userId });
    } finally {
      await strict.close();
    }
  });
});
