// Deactivating, reactivating, locking and unlocking users as callers see it: the state GetUserByID shows, the
// transitions that are refused, and what a disabled user can no longer do (its tokens, logging in, codes).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { UserState } from "../../src/gen/zitadel/user/v2/user_pb.js";
import { api, failure, fixtures, passwordLogin, rest, rpcProtocols, unique, uniqueMobile } from "../helpers/api-session.js";
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

const stateOf = async (userId: string) => (await setup.admin.users.getUserByID({ userId })).user?.state;

describe("transitions", () => {
  it.each(rpcProtocols)("over %s: deactivate, reactivate, lock, unlock, and the wrong ones USER_STATE_NOT_CHANGED", async (protocol) => {
    const { users } = api(server.url, server.adminToken, protocol);
    const userId = await setup.person(organization);
    expect(await stateOf(userId)).toBe(UserState.ACTIVE);
    const notChanged = { code: 9, reason: "USER_STATE_NOT_CHANGED" };

    expect(await failure(users.reactivateUser({ userId }))).toMatchObject(notChanged);
    expect(await failure(users.unlockUser({ userId }))).toMatchObject(notChanged);

    const deactivated = await users.deactivateUser({ userId });
    expect(deactivated.details?.resourceOwner).toBe(organization);
    expect(await stateOf(userId)).toBe(UserState.INACTIVE);
    expect(await failure(users.deactivateUser({ userId }))).toMatchObject(notChanged);
    expect(await failure(users.lockUser({ userId }))).toMatchObject(notChanged);
    expect(await failure(users.unlockUser({ userId }))).toMatchObject(notChanged);

    await users.reactivateUser({ userId });
    expect(await stateOf(userId)).toBe(UserState.ACTIVE);

    await users.lockUser({ userId });
    expect(await stateOf(userId)).toBe(UserState.LOCKED);
    expect(await failure(users.lockUser({ userId }))).toMatchObject(notChanged);
    expect(await failure(users.deactivateUser({ userId }))).toMatchObject(notChanged);
    expect(await failure(users.reactivateUser({ userId }))).toMatchObject(notChanged);

    await users.unlockUser({ userId });
    expect(await stateOf(userId)).toBe(UserState.ACTIVE);
  });

  it("over REST: POST /v2/users/{id}/deactivate, /reactivate, /lock, /unlock; GET shows the state", async () => {
    const userId = await setup.person(organization);
    const call = (action: string) => rest(server.url, server.adminToken, "POST", `/v2/users/${userId}/${action}`, {});
    const state = async () => (await rest(server.url, server.adminToken, "GET", `/v2/users/${userId}`)).body.user.state;

    expect((await call("deactivate")).status).toBe(200);
    expect(await state()).toBe("USER_STATE_INACTIVE");
    expect(await call("deactivate")).toMatchObject({ status: 400, reason: "USER_STATE_NOT_CHANGED" });
    expect((await call("reactivate")).status).toBe(200);
    expect((await call("lock")).status).toBe(200);
    expect(await state()).toBe("USER_STATE_LOCKED");
    expect(await call("lock")).toMatchObject({ status: 400, reason: "USER_STATE_NOT_CHANGED" });
    expect((await call("unlock")).status).toBe(200);
    expect(await state()).toBe("USER_STATE_ACTIVE");
  });

  it("needs user.write: a viewer is refused, a manager may, a user without it may not disable itself, a stranger sees NotFound", async () => {
    const userId = await setup.person(organization);
    const viewer = await setup.member(organization, ["ORG_USER_VIEWER"]);
    const manager = await setup.member(organization, ["ORG_USER_MANAGER"]);
    const stranger = await setup.member(await setup.organization(), ["ORG_OWNER"]);

    expect(await failure(api(server.url, viewer.token, "grpc").users.lockUser({ userId }))).toMatchObject({ code: 7, reason: "PERMISSION_DENIED" });
    expect(await failure(api(server.url, stranger.token, "grpc").users.lockUser({ userId }))).toMatchObject({ code: 5, reason: "USER_NOT_FOUND" });
    // Being the user is not enough: without user.write a service account cannot lock itself.
    const plain = await setup.machine(organization);
    expect(await failure(api(server.url, plain.token, "grpc").users.lockUser({ userId: plain.userId }))).toMatchObject({ code: 7 });
    await api(server.url, manager.token, "grpc-web").users.lockUser({ userId });
    expect(await stateOf(userId)).toBe(UserState.LOCKED);
    expect(await failure(api(server.url, server.adminToken).users.lockUser({ userId: "no-such-user" }))).toMatchObject({ code: 5, reason: "USER_NOT_FOUND" });
  });
});

describe("a disabled user's credentials", () => {
  it.each([
    ["deactivate", "reactivate"],
    ["lock", "unlock"],
  ] as const)("a service account's token is refused (16 / 401) after %s, and works after %s", async (disable, enable) => {
    const account = await setup.machine(organization);
    const self = (protocol: (typeof rpcProtocols)[number]) => api(server.url, account.token, protocol).users.getUserByID({ userId: account.userId });
    await self("grpc");
    await setup.admin.users[disable === "deactivate" ? "deactivateUser" : "lockUser"]({ userId: account.userId });
    for (const protocol of rpcProtocols) {
      expect(await failure(self(protocol))).toMatchObject({ code: 16 });
    }
    expect((await rest(server.url, account.token, "GET", `/v2/users/${account.userId}`)).status).toBe(401);
    // The token is kept while the user is disabled: it is the same token that works again.
    await setup.admin.users[enable === "reactivate" ? "reactivateUser" : "unlockUser"]({ userId: account.userId });
    for (const protocol of rpcProtocols) {
      expect((await self(protocol)).user?.userId).toBe(account.userId);
    }
    expect((await rest(server.url, account.token, "GET", `/v2/users/${account.userId}`)).status).toBe(200);
  });

  it("a person: its login token is refused and it cannot log in while deactivated or locked; both work again after", async () => {
    const username = unique("lifecycle-login");
    const password = "Lifecycle-Passw0rd";
    const userId = await setup.person(organization, { username, password });
    const login = await passwordLogin(server.url, username, password);
    expect(login.status).toBe(200);
    const token = login.body.access_token as string;
    const readSelf = () => api(server.url, token, "grpc").users.getUserByID({ userId });
    await readSelf();

    await setup.admin.users.deactivateUser({ userId });
    expect(await failure(readSelf())).toMatchObject({ code: 16 });
    expect(await passwordLogin(server.url, username, password, "json")).toMatchObject({ status: 400, body: { error: "invalid_grant" } });
    await setup.admin.users.reactivateUser({ userId });
    expect((await readSelf()).user?.userId).toBe(userId);

    await setup.admin.users.lockUser({ userId });
    expect((await rest(server.url, token, "GET", `/v2/users/${userId}`)).status).toBe(401);
    expect(await passwordLogin(server.url, username, password)).toMatchObject({ status: 400, body: { error: "invalid_grant" } });
    await setup.admin.users.unlockUser({ userId });
    expect((await passwordLogin(server.url, username, password)).status).toBe(200);
  });
});

describe("contact changes for a disabled user", () => {
  it.each(["connect", "grpc"] as const)("over %s: SetPhone, ResendPhoneCode and VerifyPhone by the admin are USER_DISABLED", async (protocol) => {
    const { users } = api(server.url, server.adminToken, protocol);
    const { userId, phoneCode } = await users.addHumanUser({
      organization: { org: { case: "orgId", value: organization } },
      profile: { givenName: "Dee", familyName: "Activated" },
      phone: { phone: uniqueMobile(), verification: { case: "returnCode", value: {} } },
    });
    expect(phoneCode).toBeDefined();
    await users.deactivateUser({ userId });
    const disabled = { code: 9, reason: "USER_DISABLED" };
    expect(await failure(users.setPhone({ userId, phone: uniqueMobile(), verification: { case: "returnCode", value: {} } }))).toMatchObject(disabled);
    expect(await failure(users.resendPhoneCode({ userId, verification: { case: "returnCode", value: {} } }))).toMatchObject(disabled);
    expect(await failure(users.verifyPhone({ userId, verificationCode: phoneCode as string }))).toMatchObject(disabled);

    // Once reactivated, the same code verifies.
    await users.reactivateUser({ userId });
    await users.verifyPhone({ userId, verificationCode: phoneCode as string });
    expect((await users.getUserByID({ userId })).user?.type).toMatchObject({ case: "human", value: { phone: { isVerified: true } } });
  });

  it("over REST: 400 with reason USER_DISABLED for a locked user", async () => {
    const { userId } = await setup.admin.users.addHumanUser({
      organization: { org: { case: "orgId", value: organization } },
      profile: { givenName: "Lou", familyName: "Locked" },
      phone: { phone: uniqueMobile(), verification: { case: "returnCode", value: {} } },
    });
    await setup.admin.users.lockUser({ userId });
    const answer = await rest(server.url, server.adminToken, "POST", `/v2/users/${userId}/phone/resend`, { returnCode: {} });
    expect(answer).toMatchObject({ status: 400, reason: "USER_DISABLED" });
    const verify = await rest(server.url, server.adminToken, "POST", `/v2/users/${userId}/phone/verify`, { verificationCode: "123456" });
    expect(verify).toMatchObject({ status: 400, reason: "USER_DISABLED" });
  });
});

describe("the instance keeps an IAM_OWNER who can act", () => {
  it("the only active IAM_OWNER cannot deactivate or lock itself; an owner that is disabled does not count", async () => {
    const admin = api(server.url, server.adminToken, "grpc");
    const { userId: adminUserId } = (await admin.users.listUsers({ queries: [{ query: { case: "userNameQuery", value: { userName: "admin" } } }] })).result[0]!;
    const lastOwner = { code: 9, reason: "LAST_INSTANCE_OWNER" };
    expect(await failure(admin.users.deactivateUser({ userId: adminUserId }))).toMatchObject(lastOwner);
    expect(await failure(admin.users.lockUser({ userId: adminUserId }))).toMatchObject(lastOwner);
    expect(await stateOf(adminUserId)).toBe(UserState.ACTIVE);

    // A second owner that is deactivated cannot act, so the first is still the last one who can.
    const second = await setup.member("", ["IAM_OWNER"]);
    await admin.users.deactivateUser({ userId: second.userId });
    expect(await failure(admin.users.lockUser({ userId: adminUserId }))).toMatchObject(lastOwner);
    expect(await failure(admin.admins.deleteAdministrator({ userId: adminUserId, resource: { resource: { case: "instance", value: true } } }))).toMatchObject(
      lastOwner,
    );

    // Once the second can act again, the first may be locked, by itself or by the second, and unlocked again.
    await admin.users.reactivateUser({ userId: second.userId });
    await api(server.url, second.token, "connect").users.lockUser({ userId: adminUserId });
    // The locked admin's own token no longer works: the second owner reads it.
    const byAdmin = await failure(admin.users.getUserByID({ userId: adminUserId }));
    expect(byAdmin).toMatchObject({ code: 16 });
    const locked = await api(server.url, second.token, "grpc").users.getUserByID({ userId: adminUserId });
    expect(locked.user?.state).toBe(UserState.LOCKED);
    expect(await failure(api(server.url, second.token, "grpc-web").users.deactivateUser({ userId: second.userId }))).toMatchObject(lastOwner);
    await api(server.url, second.token, "grpc").users.unlockUser({ userId: adminUserId });
    expect(await stateOf(adminUserId)).toBe(UserState.ACTIVE);
  });
});
