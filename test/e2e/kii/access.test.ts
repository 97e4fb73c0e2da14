// Who may do what through Kii's API: an app's Basic credentials (its key; only the app id at /oauth2/token, as Kii's
// page says) register users, log them in, verify and resend, within the app's organization only; a bearer token
// follows the rule of the ZITADEL RPC that does the same. Refusals are Kii's 401 UNAUTHORIZED, or the 404 of a
// missing user for users outside the app's organization, and land in the security log.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { unique, uniqueMobile } from "../../helpers/api-session.js";
import { type CallerFactory, callerFactory } from "../../helpers/callers.js";
import {
  type KiiApp,
  type KiiRequest,
  type KiiResponse,
  basic,
  bearerOf,
  codeSentDuring,
  createKiiApp,
  kiiChannels,
  kiiFetch,
  registrationRequestType,
  verificationRequestType,
} from "../../helpers/kii-client.js";
import { type TestServer, startTestServer } from "../../helpers/test-server.js";

let server: TestServer;
let callers: CallerFactory;
let organizationId: string;
let app: KiiApp;
let otherApp: KiiApp;

beforeAll(async () => {
  server = await startTestServer();
  callers = callerFactory(server);
  organizationId = await callers.addOrganization(unique("kii"));
  app = await createKiiApp(server, organizationId);
  otherApp = await createKiiApp(server, await callers.addOrganization(unique("kii-other")));
});
afterAll(async () => {
  await server?.close();
});

const password = "correct horse battery";

/** A person registered through the app with a phone number awaiting verification, and its login token. */
async function person(on = app): Promise<{ userId: string; loginName: string; phone: string; code: string; token: string }> {
  const loginName = unique("user");
  const phone = uniqueMobile();
  let userId = "";
  const code = await codeSentDuring(server, phone, async () => {
    const registered = await on.call("POST", "/users", {
      authorization: on.basic,
      contentType: registrationRequestType,
      body: { loginName, password, phoneNumber: phone },
    });
    userId = registered.body.userID;
  });
  return { userId, loginName, phone, code, token: bearerOf((await on.login(loginName, password)).body.access_token) };
}

function expectUnauthorized(answer: KiiResponse, fields: Record<string, unknown>): void {
  expect(answer.status, JSON.stringify(answer.body)).toBe(401);
  expect(answer.contentType).toBe("application/vnd.kii.UnauthorizedAccessException+json");
  expect(answer.body).toEqual({ errorCode: "UNAUTHORIZED", message: expect.any(String), ...fields });
  // A Basic challenge would make browsers ask for, and then send by themselves, Basic credentials.
  expect(answer.headers.get("www-authenticate")).toBeNull();
}

const resetCode = (path: string, authorization: string, segment = "phone-number") =>
  app.call("POST", `${path}/${segment}/reset-verification-code`, { authorization });

const verifyPhone = (userId: string, verificationCode: string) =>
  app.call("POST", `/users/${userId}/phone-number/verify`, { authorization: app.basic, contentType: verificationRequestType, body: { verificationCode } });

describe("credentials", () => {
  it("refuses a call without credentials, with a wrong key, with another app's, or with a bad token", async () => {
    const user = await person();
    const read = (authorization?: string) => app.call("GET", `/users/${user.userId}`, authorization === undefined ? {} : { authorization });
    expectUnauthorized(await read(), { reason: "UNAUTHENTICATED" });
    expectUnauthorized(await read(basic(app.appId, "wrong key")), { reason: "UNAUTHENTICATED" });
    expectUnauthorized(await read(basic(app.appId, `${app.appKey}x`)), { reason: "UNAUTHENTICATED" });
    expectUnauthorized(await read(otherApp.basic), { reason: "UNAUTHENTICATED" });
    expectUnauthorized(await read("Bearer not-a-token"), { reason: "UNAUTHENTICATED" });
    expectUnauthorized(await read("Basic !!!"), { reason: "UNAUTHENTICATED" });
    const resend = await app.call("POST", `/users/${user.userId}/phone-number/resend-verification`, { authorization: basic(app.appId, "wrong") });
    expectUnauthorized(resend, { reason: "UNAUTHENTICATED" });
  });

  it("answers 404 AppNotFoundException for an app id nobody has", async () => {
    const answer = await kiiFetch(server.url, "POST", "/api/apps/nosuchapp/users", { authorization: basic("nosuchapp", "key") });
    expect(answer.status).toBe(404);
    expect(answer.contentType).toBe("application/vnd.kii.AppNotFoundException+json");
    expect(answer.body).toEqual({ errorCode: "APP_NOT_FOUND", message: expect.any(String), appID: "nosuchapp", reason: "APP_NOT_FOUND" });
  });
});

describe("POST /oauth2/token", () => {
  const token = (authorization: string | undefined, on = app, extra: Record<string, string> = {}, username = "", secret = password) =>
    on.call("POST", "/oauth2/token", {
      ...(authorization === undefined ? {} : { authorization }),
      contentType: "application/json",
      body: { grant_type: "password", username, password: secret, ...extra },
    });

  it("needs Basic with the app's id and any password, and refuses like our /oauth2/token", async () => {
    const user = await person();
    expect((await token(basic(app.appId, "anything"), app, {}, user.loginName)).body.id).toBe(user.userId);
    expect((await token(app.basic, app, {}, user.loginName)).body.id).toBe(user.userId);
    expectUnauthorized(await token(undefined, app, {}, user.loginName), { reason: "UNAUTHENTICATED" });
    expectUnauthorized(await token(basic(otherApp.appId, "anything"), app, {}, user.loginName), { reason: "UNAUTHENTICATED" });
    expectUnauthorized(await token(user.token, app, {}, user.loginName), { reason: "UNAUTHENTICATED" });

    const wrong = await token(basic(app.appId, "x"), app, {}, user.loginName, "wrong password");
    expect(wrong.status).toBe(400);
    expect(wrong.body).toEqual({ error: "invalid_grant", error_description: expect.any(String) });
    expect(wrong.headers.get("cache-control")).toBe("no-store");
  });

  it("logs in only the users of the app's organization, whatever organization the request names", async () => {
    const user = await person();
    const elsewhere = await token(basic(otherApp.appId, "x"), otherApp, {}, user.loginName);
    expect(elsewhere.status).toBe(400);
    const named = await token(basic(otherApp.appId, "x"), otherApp, { organization_id: organizationId }, user.loginName);
    expect(named.body).toEqual({ error: "invalid_grant", error_description: expect.any(String) });
  });
});

describe("an app's own credentials", () => {
  it("verify and resend for the app's users, but read, change and reset nobody, and have no \"me\"", async () => {
    const user = await person();
    const authenticatedAppID = app.appId;
    expectUnauthorized(await app.call("GET", `/users/${user.userId}`, { authorization: app.basic }), {
      authenticatedAppID,
      permission: "user.read",
      reason: "PERMISSION_DENIED",
    });
    const update = await app.call("POST", `/users/${user.userId}`, { authorization: app.basic, contentType: "application/json", body: { phoneNumber: uniqueMobile() } });
    expectUnauthorized(update, { authenticatedAppID, permission: "user.write", reason: "PERMISSION_DENIED" });
    expectUnauthorized(await resetCode(`/users/${user.userId}`, app.basic), { authenticatedAppID, permission: "user.write", reason: "PERMISSION_DENIED" });
    expectUnauthorized(await app.call("GET", "/users/me", { authorization: app.basic }), { authenticatedAppID, reason: "UNAUTHENTICATED" });

    server.clock.advance(60_000);
    expect((await app.call("POST", `/users/${user.userId}/phone-number/resend-verification`, { authorization: app.basic })).status).toBe(204);
  });

  it("reach no user of another organization: 404 USER_NOT_FOUND", async () => {
    const stranger = await person(otherApp);
    const answer = await verifyPhone(stranger.userId, stranger.code);
    expect(answer.status).toBe(404);
    expect(answer.body).toMatchObject({ errorCode: "USER_NOT_FOUND", value: stranger.userId, appID: app.appId });
    const resend = await app.call("POST", `/users/${stranger.userId}/phone-number/resend-verification`, { authorization: app.basic });
    expect(resend.status).toBe(404);
  });

  it("see a service account of the app's own organization exactly as a missing user, whatever they do", async () => {
    const account = await callers.addCaller({ organizationId, roles: {} });
    const missing = `${account.userId}0`;
    const calls: [string, string, KiiRequest][] = [
      ["GET", "", {}],
      ["HEAD", "", {}],
      ["POST", "", { contentType: "application/json", body: { phoneNumber: uniqueMobile() } }],
      ...kiiChannels.flatMap(({ segment }): [string, string, KiiRequest][] => [
        ["POST", `/${segment}/verify`, { contentType: verificationRequestType, body: { verificationCode: "123456" } }],
        ["POST", `/${segment}/resend-verification`, {}],
        ["POST", `/${segment}/reset-verification-code`, {}],
      ]),
    ];
    for (const [method, suffix, request] of calls) {
      for (const userId of [account.userId, missing]) {
        const answer = await app.call(method, `/users/${userId}${suffix}`, { authorization: app.basic, ...request });
        expect(answer.status, `${method} ${suffix}`).toBe(404);
        expect(answer.contentType).toBe("application/vnd.kii.UserNotFoundException+json");
        const notFound = {
          errorCode: "USER_NOT_FOUND",
          message: "User could not be found (QUERY-Dfbg2)",
          reason: "USER_NOT_FOUND",
          field: "userID",
          value: userId,
          appID: app.appId,
        };
        expect(answer.body).toEqual(method === "HEAD" ? undefined : notFound);
      }
    }
  });

  it("are recorded in the security log when refused, as the app", async () => {
    const user = await person();
    await resetCode(`/users/${user.userId}`, app.basic);
    const search = await fetch(`${server.url}/verifyd/v1/security_events/_search`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${server.adminToken}` },
      body: JSON.stringify({ userId: user.userId, kinds: ["permission.denied"] }),
    });
    const { result } = (await search.json()) as { result: { actorId: string; userId: string; detail: Record<string, string> }[] };
    expect(result).toEqual([
      expect.objectContaining({
        actorId: `app:${app.appId}`,
        userId: user.userId,
        detail: { method: "Kii/ResetPhoneCode", reason: "PERMISSION_DENIED", permission: "user.write" },
      }),
    ]);
  });
});

describe("a bearer token", () => {
  it("of the user itself: reads and verifies itself, reads no one else, and gets no code returned", async () => {
    const user = await person();
    const other = await person();
    expect((await app.call("GET", "/users/me", { authorization: user.token })).status).toBe(200);
    expect((await app.call("GET", `/users/${user.userId}`, { authorization: user.token })).body.userID).toBe(user.userId);
    const foreign = await app.call("GET", `/users/${other.userId}`, { authorization: user.token });
    expect(foreign.status).toBe(404);
    expect(foreign.body).toMatchObject({ errorCode: "USER_NOT_FOUND", value: other.userId });
    expectUnauthorized(await resetCode("/users/me", user.token), {
      authenticatedAppID: app.appId,
      authenticatedPrincipalID: user.userId,
      permission: "user.write",
      reason: "PERMISSION_DENIED",
    });
  });

  it("of an ORG_USER_VIEWER: reads the organization's users but verifies no one's code", async () => {
    const viewer = await callers.addCaller({ organizationId, roles: { [organizationId]: ["ORG_USER_VIEWER"] } });
    const user = await person();
    const read = await app.call("GET", `/users/${user.userId}`, { authorization: bearerOf(viewer.token) });
    expect(read.status).toBe(200);
    expect(read.body).toMatchObject({ userID: user.userId, phoneNumber: user.phone, phoneNumberVerified: false });
    const verify = await app.call("POST", `/users/${user.userId}/phone-number/verify`, {
      authorization: bearerOf(viewer.token),
      contentType: verificationRequestType,
      body: { verificationCode: user.code },
    });
    expectUnauthorized(verify, {
      authenticatedAppID: app.appId,
      authenticatedPrincipalID: viewer.userId,
      permission: "user.write",
      reason: "PERMISSION_DENIED",
    });
  });

  it("of an owner of another organization: the app's users do not exist", async () => {
    const elsewhere = await callers.addOrganization(unique("kii-else"));
    const owner = await callers.addCaller({ organizationId: elsewhere, roles: { [elsewhere]: ["ORG_OWNER"] } });
    const user = await person();
    expect((await app.call("GET", `/users/${user.userId}`, { authorization: bearerOf(owner.token) })).status).toBe(404);
  });

  it("of an ORG_OWNER or IAM_OWNER: reset-verification-code returns a code (not sent) that verifies", async () => {
    const owner = await callers.addCaller({ organizationId, roles: { [organizationId]: ["ORG_OWNER"] } });
    for (const token of [owner.token, server.adminToken]) {
      const user = await person();
      const mark = server.delivered.length;
      const reset = await resetCode(`/users/${user.userId}`, bearerOf(token));
      expect(reset.status).toBe(200);
      expect(reset.contentType).toBe("application/vnd.kii.ResetVerificationCodeResponse+json");
      expect(reset.body).toEqual({ verificationCode: expect.stringMatching(/^\d{6}$/) });
      await server.outbox.runOnce();
      expect(server.delivered.slice(mark).filter((message) => message.destination === user.phone)).toEqual([]);
      // The reset replaced the code that was sent.
      if (user.code !== reset.body.verificationCode) expect((await verifyPhone(user.userId, user.code)).status).toBe(403);
      expect((await verifyPhone(user.userId, reset.body.verificationCode)).body).toEqual({ verificationStatus: "VERIFIED" });
    }
  });

  it("of an ORG_OWNER person: reset-verification-code at /users/me, for its own email address", async () => {
    const loginName = unique("owner");
    const email = `${loginName}@example.com`;
    const registered = await app.call("POST", "/users", { authorization: app.basic, contentType: registrationRequestType, body: { loginName, password, emailAddress: email } });
    await callers.grant(registered.body.userID, { [organizationId]: ["ORG_OWNER"] });
    const token = bearerOf((await app.login(loginName, password)).body.access_token);
    const reset = await resetCode("/users/me", token, "email-address");
    expect(reset.status).toBe(200);
    const verify = await app.call("POST", "/users/me/email-address/verify", {
      authorization: token,
      contentType: verificationRequestType,
      body: { verificationCode: reset.body.verificationCode },
    });
    expect(verify.body).toEqual({ verificationStatus: "VERIFIED" });
  });

  it("of an ORG_USER_MANAGER: changes users without roles, but not an ORG_OWNER's address", async () => {
    const manager = await callers.addCaller({ organizationId, roles: { [organizationId]: ["ORG_USER_MANAGER"] } });
    const plain = await person();
    const change = (userId: string) =>
      app.call("POST", `/users/${userId}`, {
        authorization: bearerOf(manager.token),
        contentType: "application/vnd.kii.UserUpdateRequest+json",
        body: { phoneNumber: uniqueMobile() },
      });
    server.clock.advance(60_000);
    expect((await change(plain.userId)).status).toBe(200);
    const owner = await person();
    await callers.grant(owner.userId, { [organizationId]: ["ORG_OWNER"] });
    expectUnauthorized(await change(owner.userId), {
      authenticatedAppID: app.appId,
      authenticatedPrincipalID: manager.userId,
      permission: "member.write",
      reason: "PERMISSION_DENIED",
    });
  });
});

describe("registration", () => {
  const register = (authorization: string, body: Record<string, unknown>) =>
    app.call("POST", "/users", { authorization, contentType: registrationRequestType, body: { loginName: unique("user"), password, ...body } });

  it("by a user manager's token, which may also declare an address verified; not by an app or a plain user", async () => {
    const manager = await callers.addCaller({ organizationId, roles: { [organizationId]: ["ORG_USER_MANAGER"] } });
    expect((await register(bearerOf(manager.token), { phoneNumber: uniqueMobile() })).status).toBe(201);

    const phone = uniqueMobile();
    const mark = server.delivered.length;
    const preset = await register(bearerOf(manager.token), { phoneNumber: phone, phoneNumberVerified: true });
    expect(preset.status).toBe(201);
    expect(preset.body).toMatchObject({ phoneNumber: phone, phoneNumberVerified: true });
    await server.outbox.runOnce();
    expect(server.delivered.slice(mark).filter((message) => message.destination === phone)).toEqual([]);

    expectUnauthorized(await register(app.basic, { phoneNumber: uniqueMobile(), phoneNumberVerified: true }), {
      authenticatedAppID: app.appId,
      permission: "user.write",
      reason: "PERMISSION_DENIED",
    });
    const user = await person();
    expectUnauthorized(await register(user.token, {}), {
      authenticatedAppID: app.appId,
      authenticatedPrincipalID: user.userId,
      permission: "user.write",
      reason: "PERMISSION_DENIED",
    });
  });
});
