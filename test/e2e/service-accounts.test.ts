// Service accounts and their personal access tokens as a caller sees them: a machine user in an organization, a token
// shown once that authenticates on every protocol, expires, and stops working the moment it is removed. These RPCs
// have no REST path in ZITADEL; curl users call the Connect path with JSON, which is tested here too.
import { readFileSync } from "node:fs";
import { timestampDate, timestampFromDate } from "@bufbuild/protobuf/wkt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { api, failure, fixtures, rest, rpcProtocols, unique } from "../helpers/api-session.js";
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

const day = 86_400_000;

/** Whether the token authenticates a call it may make (reading itself), on this protocol. */
async function works(token: string, userId: string, protocol: (typeof rpcProtocols)[number] | "rest"): Promise<number> {
  if (protocol === "rest") return (await rest(server.url, token, "GET", `/v2/users/${userId}`)).status;
  try {
    await api(server.url, token, protocol).users.getUserByID({ userId });
    return 0;
  } catch (error) {
    return (await failure(Promise.reject(error))).code;
  }
}

// ZITADEL answers a phone or email call about a service account as about a user without that contact: NotFound
// "Phone not found (COMMAND-ieJ2e)". A client written against ZITADEL must get the same code from verifyd.
describe("phone and email calls about a service account", () => {
  it.each(rpcProtocols)("are NotFound, \"Phone not found\" or \"Email not found\" as ZITADEL says, over %s", async (protocol) => {
    const { userId } = await setup.machine(organization);
    const { users } = api(server.url, server.adminToken, protocol);
    const phoneNotFound = { code: 5, message: "Phone not found (COMMAND-ieJ2e)", reason: "USER_NOT_HUMAN" };
    const emailNotFound = { code: 5, message: "Email not found (COMMAND-ieJ2e)", reason: "USER_NOT_HUMAN" };
    expect(await failure(users.verifyPhone({ userId, verificationCode: "123456" }))).toMatchObject(phoneNotFound);
    expect(await failure(users.setPhone({ userId, phone: "+41791234567", verification: { case: "returnCode", value: {} } }))).toMatchObject(phoneNotFound);
    expect(await failure(users.resendPhoneCode({ userId, verification: { case: "returnCode", value: {} } }))).toMatchObject(phoneNotFound);
    expect(await failure(users.removePhone({ userId }))).toMatchObject(phoneNotFound);
    expect(await failure(users.verifyEmail({ userId, verificationCode: "123456" }))).toMatchObject(emailNotFound);
  });

  it("are 404 over REST", async () => {
    const { userId } = await setup.machine(organization);
    const answer = await rest(server.url, server.adminToken, "POST", `/v2/users/${userId}/phone/verify`, { verificationCode: "123456" });
    expect(answer.status).toBe(404);
    expect(answer.body).toMatchObject({ code: 5, message: "Phone not found (COMMAND-ieJ2e)" });
  });
});

describe("CreateUser with machine", () => {
  it.each(rpcProtocols)("creates a service account over %s that GetUserByID shows as machine {name, description}", async (protocol) => {
    const { users } = api(server.url, server.adminToken, protocol);
    const name = unique(`robot ${protocol}`);
    const created = await users.createUser({
      organizationId: organization,
      userType: { case: "machine", value: { name, description: "builds things" } },
    });
    expect(created.id).not.toBe("");
    expect(created.creationDate).toBeDefined();
    const { user, details } = await users.getUserByID({ userId: created.id });
    expect(details?.resourceOwner).toBe(organization);
    expect(user?.type).toEqual({ case: "machine", value: expect.objectContaining({ name, description: "builds things" }) });
    expect(user?.username).not.toBe("");
  });

  it("defaults the username to the user id, as ZITADEL: two accounts may share a name", async () => {
    const { users } = api(server.url, server.adminToken, "grpc");
    const first = await users.createUser({ organizationId: organization, userType: { case: "machine", value: { name: "Same Name" } } });
    const second = await users.createUser({ organizationId: organization, userType: { case: "machine", value: { name: "Same Name" } } });
    expect((await users.getUserByID({ userId: first.id })).user?.username).toBe(first.id);
    expect((await users.getUserByID({ userId: second.id })).user?.username).toBe(second.id);
    const chosen = unique("chosen-id");
    const third = await users.createUser({ organizationId: organization, userId: chosen, userType: { case: "machine", value: { name: "Same Name" } } });
    expect(third.id).toBe(chosen);
    expect((await users.getUserByID({ userId: chosen })).user?.username).toBe(chosen);
  });

  it("refuses a username taken in the organization (AlreadyExists)", async () => {
    const { users } = api(server.url, server.adminToken, "grpc-web");
    const username = unique("taken");
    await users.createUser({ organizationId: organization, username, userType: { case: "machine", value: { name: "One" } } });
    const refused = await failure(users.createUser({ organizationId: organization, username, userType: { case: "machine", value: { name: "Two" } } }));
    expect(refused).toMatchObject({ code: 6, reason: "USERNAME_TAKEN" });
    // One name in any case of its letters, as in ZITADEL (found by a hostile-client trial: ada, Ada and ADA were three).
    const upper = await failure(users.createUser({ organizationId: organization, username: username.toUpperCase(), userType: { case: "machine", value: { name: "Three" } } }));
    expect(upper).toMatchObject({ code: 6, reason: "USERNAME_TAKEN" });
  });

  it("takes the Connect path with JSON, as curl users call it", async () => {
    const username = unique("curl-robot");
    const created = await rest(server.url, server.adminToken, "POST", "/zitadel.user.v2.UserService/CreateUser", {
      organizationId: organization,
      username,
      machine: { name: "Curl Robot" },
    });
    expect(created.status).toBe(200);
    const read = await rest(server.url, server.adminToken, "GET", `/v2/users/${created.body.id}`);
    expect(read.body.user).toMatchObject({ username, machine: { name: "Curl Robot" } });
  });

  it("refuses an organization that does not exist (NotFound)", async () => {
    const refused = await failure(
      api(server.url, server.adminToken, "grpc").users.createUser({ organizationId: "nowhere", userType: { case: "machine", value: { name: "x" } } }),
    );
    expect(refused).toMatchObject({ code: 5, reason: "ORGANIZATION_NOT_FOUND" });
  });
});

describe("AddPersonalAccessToken", () => {
  it("gives a token of at least 256 bits that authenticates on every protocol and is stored only as a hash", async () => {
    const { userId, token, tokenId } = await setup.machine(organization);
    expect(tokenId).not.toBe("");
    expect(token).toMatch(/^[A-Za-z0-9_-]{43,}$/);
    for (const protocol of [...rpcProtocols, "rest"] as const) {
      expect(await works(token, userId, protocol)).toBe(protocol === "rest" ? 200 : 0);
    }
    // ListUsers too: a service account with no role sees itself.
    const { result } = await api(server.url, token, "grpc").users.listUsers({});
    expect(result.map((user) => user.userId)).toEqual([userId]);

    // Neither the token nor its base64url bytes in another spelling are in the database or its journal.
    const files = ["verifyd.sqlite", "verifyd.sqlite-wal"].map((name) => `${server.dataDir}/${name}`);
    const bytes = Buffer.concat(files.map((file) => readOrEmpty(file)));
    expect(bytes.includes(Buffer.from(token))).toBe(false);
    expect(bytes.includes(Buffer.from(token, "base64url"))).toBe(false);
  });

  it.each(rpcProtocols)("takes an expiration_date over %s: the token works until then, not after", async (protocol) => {
    const { users } = api(server.url, server.adminToken, protocol);
    const { userId } = await setup.machine(organization);
    const expiry = new Date(server.clock.now().getTime() + 2 * day);
    const { token, tokenId } = await users.addPersonalAccessToken({ userId, expirationDate: timestampFromDate(expiry) });
    const listed = await users.listPersonalAccessTokens({ filters: [{ filter: { case: "tokenIdFilter", value: { id: tokenId } } }, userIdFilter(userId)] });
    expect(listed.result.map((pat) => timestampDate(pat.expirationDate!).getTime())).toEqual([expiry.getTime()]);

    expect(await works(token, userId, protocol)).toBe(0);
    server.clock.advance(2 * day - 1);
    expect(await works(token, userId, protocol)).toBe(0);
    server.clock.advance(1);
    expect(await works(token, userId, protocol)).toBe(16);
    expect(await works(token, userId, "rest")).toBe(401);
  });

  it("refuses an expiration_date in the past or now (InvalidArgument), over gRPC and Connect JSON", async () => {
    const { userId } = await setup.machine(organization);
    const past = timestampFromDate(new Date(server.clock.now().getTime() - 1000));
    const refused = await failure(api(server.url, server.adminToken, "grpc").users.addPersonalAccessToken({ userId, expirationDate: past }));
    expect(refused.code).toBe(3);
    // Named the way every other field's refusal is: the message, and a google.rpc.BadRequest.
    expect(refused.message).toBe("invalid AddPersonalAccessTokenRequest: expiration_date: must be in the future");
    expect(refused.fieldViolations).toEqual([
      { field: "expiration_date", description: "must be in the future", reason: "timestamp.gt_now" },
    ]);
    const now = timestampFromDate(server.clock.now());
    expect((await failure(api(server.url, server.adminToken, "grpc-web").users.addPersonalAccessToken({ userId, expirationDate: now }))).code).toBe(3);
    const viaCurl = await rest(server.url, server.adminToken, "POST", "/zitadel.user.v2.UserService/AddPersonalAccessToken", {
      userId,
      expirationDate: "2000-01-01T00:00:00Z",
    });
    expect(viaCurl).toMatchObject({ status: 400, body: { code: "invalid_argument" } });
  });

  it("takes an expiration_date up to the last second of 9999, and refuses a later one as InvalidArgument, not an internal error", async () => {
    const { userId } = await setup.machine(organization);
    const { users } = api(server.url, server.adminToken, "grpc");
    const lastSecondOf9999 = { seconds: 253_402_300_799n, nanos: 0 };
    const { token } = await users.addPersonalAccessToken({ userId, expirationDate: lastSecondOf9999 });
    expect(await works(token, userId, "grpc")).toBe(0);
    // Past 9999 proto3 JSON has no way to write it; past 275760 not even a Date holds it.
    for (const seconds of [253_402_300_800n, 8_000_000_000_000n, 10n ** 15n]) {
      const refused = await failure(users.addPersonalAccessToken({ userId, expirationDate: { seconds, nanos: 0 } }));
      expect(refused.code, String(seconds)).toBe(3);
      expect(refused.fieldViolations).toEqual([
        { field: "expiration_date", description: "must be at most 9999-12-31T23:59:59.000Z", reason: "timestamp.lte" },
      ]);
    }
    // …and every list of the account's tokens answers in JSON: a later one made each of them fail.
    const listed = await rest(server.url, server.adminToken, "POST", "/zitadel.user.v2.UserService/ListPersonalAccessTokens", {
      filters: [{ userIdFilter: { id: userId } }],
    });
    expect(listed.status).toBe(200);
    expect((listed.body.result as { expirationDate: string }[]).map((listedToken) => listedToken.expirationDate)).toContain("9999-12-31T23:59:59Z");
  });

  it("refuses a person: USER_NOT_MACHINE (FailedPrecondition) on every token RPC", async () => {
    const person = await setup.person(organization);
    for (const protocol of ["connect", "grpc"] as const) {
      const { users } = api(server.url, server.adminToken, protocol);
      expect(await failure(users.addPersonalAccessToken({ userId: person }))).toMatchObject({ code: 9, reason: "USER_NOT_MACHINE" });
      expect(await failure(users.removePersonalAccessToken({ userId: person, tokenId: "x" }))).toMatchObject({ code: 9, reason: "USER_NOT_MACHINE" });
      expect(await failure(users.listPersonalAccessTokens({ filters: [userIdFilter(person)] }))).toMatchObject({ code: 9, reason: "USER_NOT_MACHINE" });
    }
  });

  it("lets an ORG_OWNER manage tokens of its organization's service accounts, not a manager, and not elsewhere", async () => {
    const other = await setup.organization();
    const owner = await setup.member(organization, ["ORG_OWNER"]);
    const manager = await setup.member(organization, ["ORG_USER_MANAGER"]);
    const account = await setup.machine(organization);
    const elsewhere = await setup.machine(other);

    const added = await api(server.url, owner.token, "grpc-web").users.addPersonalAccessToken({ userId: account.userId });
    expect(await works(added.token, account.userId, "grpc")).toBe(0);
    expect(await failure(api(server.url, manager.token, "grpc").users.addPersonalAccessToken({ userId: account.userId }))).toMatchObject({
      code: 7,
      reason: "PERMISSION_DENIED",
    });
    // A stranger to the organization gets the answer of a user that does not exist.
    expect(await failure(api(server.url, owner.token, "grpc").users.addPersonalAccessToken({ userId: elsewhere.userId }))).toMatchObject({
      code: 5,
      reason: "USER_NOT_FOUND",
    });
    // A service account may not mint more tokens for itself.
    expect((await failure(api(server.url, account.token).users.addPersonalAccessToken({ userId: account.userId }))).code).toBe(7);
  });

  it("lets only an IAM_OWNER make a token for an IAM_OWNER service account", async () => {
    const defaultOrganization = await setup.defaultOrganization();
    const instanceOwner = await setup.member("", ["IAM_OWNER"], defaultOrganization);
    const orgOwner = await setup.member(defaultOrganization, ["ORG_OWNER"]);
    const refused = await failure(api(server.url, orgOwner.token, "grpc").users.addPersonalAccessToken({ userId: instanceOwner.userId }));
    expect(refused).toMatchObject({ code: 7, reason: "PERMISSION_DENIED" });
    const added = await api(server.url, server.adminToken, "grpc").users.addPersonalAccessToken({ userId: instanceOwner.userId });
    expect(added.token).not.toBe("");
  });
});

describe("RemovePersonalAccessToken", () => {
  it.each(rpcProtocols)("over %s: the removed token is refused on the very next call (16 / 401)", async (protocol) => {
    const { userId, token, tokenId } = await setup.machine(organization);
    const keep = await api(server.url, server.adminToken).users.addPersonalAccessToken({ userId });
    expect(await works(token, userId, protocol)).toBe(0);
    const removed = await api(server.url, server.adminToken, protocol).users.removePersonalAccessToken({ userId, tokenId });
    expect(removed.deletionDate).toBeDefined();
    expect(await works(token, userId, protocol)).toBe(16);
    const viaRest = await fetch(`${server.url}/v2/users/${userId}`, { headers: { authorization: `Bearer ${token}` } });
    expect(viaRest.status).toBe(401);
    expect(viaRest.headers.get("www-authenticate")).toMatch(/^Bearer/);
    // The account's other token is untouched.
    expect(await works(keep.token, userId, protocol)).toBe(0);
    // Removing it again, or a token of another account, is TOKEN_NOT_FOUND.
    expect(await failure(api(server.url, server.adminToken, protocol).users.removePersonalAccessToken({ userId, tokenId }))).toMatchObject({
      code: 5,
      reason: "TOKEN_NOT_FOUND",
    });
  });

  it("does not remove a token named with another account's user id", async () => {
    const first = await setup.machine(organization);
    const second = await setup.machine(organization);
    const refused = await failure(
      api(server.url, server.adminToken, "grpc").users.removePersonalAccessToken({ userId: second.userId, tokenId: first.tokenId }),
    );
    expect(refused).toMatchObject({ code: 5, reason: "TOKEN_NOT_FOUND" });
    expect(await works(first.token, first.userId, "grpc")).toBe(0);
  });

  it("over the Connect path with JSON", async () => {
    const { userId, token, tokenId } = await setup.machine(organization);
    const removed = await rest(server.url, server.adminToken, "POST", "/zitadel.user.v2.UserService/RemovePersonalAccessToken", { userId, tokenId });
    expect(removed.status).toBe(200);
    expect(await works(token, userId, "rest")).toBe(401);
  });
});

const userIdFilter = (id: string) => ({ filter: { case: "userIdFilter" as const, value: { id } } });

describe("ListPersonalAccessTokens", () => {
  it.each(rpcProtocols)("over %s: lists ids and expiry of one account's tokens, never a token", async (protocol) => {
    const { users } = api(server.url, server.adminToken, protocol);
    const { userId, tokenId } = await setup.machine(organization);
    server.clock.advance(1000);
    const second = await users.addPersonalAccessToken({ userId, expirationDate: timestampFromDate(new Date(server.clock.now().getTime() + day)) });
    const other = await setup.machine(organization);

    const listed = await users.listPersonalAccessTokens({ filters: [userIdFilter(userId)] });
    expect(listed.pagination?.totalResult).toBe(2n);
    expect(new Set(listed.result.map((pat) => pat.id))).toEqual(new Set([tokenId, second.tokenId]));
    for (const pat of listed.result) {
      expect(pat).toMatchObject({ userId, organizationId: organization });
      expect(pat.expirationDate).toBeDefined();
      expect(JSON.stringify(pat, (_key, value) => (typeof value === "bigint" ? String(value) : value))).not.toContain(second.token);
    }
    expect(listed.result.map((pat) => pat.id)).not.toContain(other.tokenId);

    const page = await users.listPersonalAccessTokens({ filters: [userIdFilter(userId)], pagination: { limit: 1, asc: true } });
    expect(page.pagination?.totalResult).toBe(2n);
    expect(page.result.map((pat) => pat.id)).toEqual([tokenId]);
    const byId = await users.listPersonalAccessTokens({
      filters: [userIdFilter(userId), { filter: { case: "tokenIdFilter", value: { id: second.tokenId } } }],
    });
    expect(byId.result.map((pat) => pat.id)).toEqual([second.tokenId]);
  });

  it("needs a user_id_filter (InvalidArgument)", async () => {
    for (const protocol of ["connect", "grpc"] as const) {
      const refused = await failure(api(server.url, server.adminToken, protocol).users.listPersonalAccessTokens({}));
      expect(refused.code).toBe(3);
      expect(refused.message).toContain('give a user_id_filter (in JSON: {"filters":[{"userIdFilter":{"id":"…"}}]})');
    }
  });

  it("over the Connect path with JSON: no token field in the answer", async () => {
    const { userId, token, tokenId } = await setup.machine(organization);
    const listed = await rest(server.url, server.adminToken, "POST", "/zitadel.user.v2.UserService/ListPersonalAccessTokens", {
      filters: [{ userIdFilter: { id: userId } }],
    });
    expect(listed.status).toBe(200);
    expect(listed.body.result).toMatchObject([{ id: tokenId, userId, organizationId: organization }]);
    expect(JSON.stringify(listed.body)).not.toContain(token);
  });
});

function readOrEmpty(path: string): Buffer {
  try {
    return readFileSync(path);
  } catch {
    return Buffer.alloc(0);
  }
}
