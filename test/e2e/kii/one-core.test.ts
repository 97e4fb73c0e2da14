// Kii's API and ZITADEL's act on the same users: what one verifies the other reads as verified, both append to one
// event stream, the limits count an app as one caller whichever user it acts for, and the security log tells the
// same story for both.
import type { JsonObject } from "@bufbuild/protobuf";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fixtures, rest, unique, uniqueMobile } from "../../helpers/api-session.js";
import { openEventReader } from "../../helpers/events.js";
import { type KiiApp, basic, bearerOf, codeSentDuring, createKiiApp, registrationRequestType, verificationRequestType } from "../../helpers/kii-client.js";
import { type TestServer, startTestServer } from "../../helpers/test-server.js";
import { openLiveDatabase } from "../../helpers/live-database.js";

const password = "correct horse battery";

describe("one user, two APIs", () => {
  let server: TestServer;
  let app: KiiApp;

  beforeAll(async () => {
    server = await startTestServer();
    app = await createKiiApp(server, await fixtures(server.url, server.adminToken).organization(unique("kii")));
  });
  afterAll(async () => {
    await server?.close();
  });

  const zitadel = (method: string, path: string, body?: unknown) => rest(server.url, server.adminToken, method, path, body);
  const zitadelPhone = async (userId: string) => ((await zitadel("GET", `/v2/users/${userId}`)).body.user.human as JsonObject).phone;
  const kiiUser = async (userId: string) => (await app.call("GET", `/users/${userId}`, { authorization: bearerOf(server.adminToken) })).body;
  const kiiVerify = (userId: string, verificationCode: string) =>
    app.call("POST", `/users/${userId}/phone-number/verify`, { authorization: app.basic, contentType: verificationRequestType, body: { verificationCode } });

  async function registerOverKii(phone: string): Promise<{ userId: string; code: string }> {
    let userId = "";
    const code = await codeSentDuring(server, phone, async () => {
      const registered = await app.call("POST", "/users", {
        authorization: app.basic,
        contentType: registrationRequestType,
        body: { loginName: unique("user"), password, phoneNumber: phone },
      });
      userId = registered.body.userID;
    });
    return { userId, code };
  }

  it("a number verified over Kii reads verified over ZITADEL's GetUserByID", async () => {
    const phone = uniqueMobile();
    const { userId, code } = await registerOverKii(phone);
    // proto3 JSON leaves out false.
    expect(await zitadelPhone(userId)).toEqual({ phone });
    expect((await kiiVerify(userId, code)).status).toBe(200);
    expect(await zitadelPhone(userId)).toEqual({ phone, isVerified: true });
  });

  it("a number verified over ZITADEL reads verified over Kii, and a change made over ZITADEL is pending over Kii", async () => {
    const phone = uniqueMobile();
    const added = await zitadel("POST", "/v2/users/human", {
      organization: { orgId: app.organizationId },
      username: unique("zitadel"),
      profile: { givenName: "Ada", familyName: "Lovelace" },
      phone: { phone, returnCode: {} },
    });
    const userId = added.body.userId as string;
    expect(await kiiUser(userId)).toMatchObject({ userID: userId, phoneNumber: phone, phoneNumberVerified: false });
    expect((await zitadel("POST", `/v2/users/${userId}/phone/verify`, { verificationCode: added.body.phoneCode })).status).toBe(200);
    expect(await kiiUser(userId)).toMatchObject({ phoneNumber: phone, phoneNumberVerified: true });

    const next = uniqueMobile();
    const changed = await zitadel("POST", `/v2/users/${userId}/phone`, { phone: next, returnCode: {} });
    expect(await kiiUser(userId)).toMatchObject({ phoneNumber: phone, phoneNumberVerified: true, _phoneNumberPending: next });
    // …and the code ZITADEL's SetPhone returned verifies over Kii.
    expect((await kiiVerify(userId, changed.body.verificationCode)).body).toEqual({ verificationStatus: "VERIFIED" });
    expect(await zitadelPhone(userId)).toEqual({ phone: next, isVerified: true });
  });

  it("a language that is no language tag, stored before verifyd refused such, still reads over both APIs and gets codes", async () => {
    const phone = uniqueMobile();
    const { userId } = await registerOverKii(phone);
    const stored = "de\u202e\u0000";
    const database = openLiveDatabase(server.config.database);
    try {
      database.prepare("UPDATE users SET state = json_set(state, '$.profile.preferredLanguage', ?) WHERE id = ?").run(stored, userId);
    } finally {
      database.close();
    }
    expect(await kiiUser(userId)).toMatchObject({ userID: userId, locale: stored });
    const { user } = (await zitadel("GET", `/v2/users/${userId}`)).body;
    expect((user.human as JsonObject).profile).toMatchObject({ preferredLanguage: stored });
    // Past the cooldown; the code comes in the default language, as for any language without templates.
    server.clock.advance(61_000);
    await codeSentDuring(server, phone, async () => {
      expect((await zitadel("POST", `/v2/users/${userId}/phone/resend`, { sendCode: {} })).status).toBe(200);
    });
  });

  it("both APIs append to one event stream, in one sequence", async () => {
    const reader = openEventReader(server.config.database);
    try {
      const { userId, code } = await registerOverKii(uniqueMobile());
      const wrong = code === "000000" ? "111111" : "000000";
      expect((await kiiVerify(userId, wrong)).status).toBe(403);
      const next = uniqueMobile();
      const changed = await zitadel("POST", `/v2/users/${userId}/phone`, { phone: next, returnCode: {} });
      expect((await kiiVerify(userId, changed.body.verificationCode)).status).toBe(200);
      const events = await reader.events(userId);
      expect(events.map((event) => event.type.replace("user.human.", ""))).toEqual([
        "added",
        "password.changed",
        "phone.code.added",
        "phone.code.sent",
        "phone.verification.failed",
        "phone.changed",
        "phone.code.added",
        "phone.verified",
      ]);
      expect(events.map((event) => event.sequence)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    } finally {
      reader.close();
    }
  });

  it("the security log records a wrong code over Kii as ZITADEL's: code.failed, by the app or the user", async () => {
    const loginName = unique("user");
    const phone = uniqueMobile();
    const registered = await app.call("POST", "/users", { authorization: app.basic, contentType: "application/json", body: { loginName, password, phoneNumber: phone } });
    const userId = registered.body.userID as string;
    const token = bearerOf((await app.login(loginName, password)).body.access_token);
    await kiiVerify(userId, "12345678");
    server.clock.advance(61_000);
    await app.call("POST", "/users/me/phone-number/verify", { authorization: token, contentType: verificationRequestType, body: { verificationCode: "12345678" } });
    const { body } = await zitadel("POST", "/verifyd/v1/security_events/_search", { userId, kinds: ["code.failed"] });
    // One entry for each wrong code, each counted once.
    expect(body.result).toEqual([
      expect.objectContaining({ kind: "code.failed", actorId: userId, userId, detail: { channel: "phone" }, count: 1 }),
      expect.objectContaining({ kind: "code.failed", actorId: `app:${app.appId}`, userId, detail: { channel: "phone" }, count: 1 }),
    ]);
  });

  it("no app key, password, token or submitted code of a Kii flow appears in the security log", async () => {
    const loginName = unique("user");
    const phone = uniqueMobile();
    const registered = await app.call("POST", "/users", { authorization: app.basic, contentType: "application/json", body: { loginName, password, phoneNumber: phone } });
    const userId = registered.body.userID as string;
    await app.login(loginName, "a wrong password");
    const token = (await app.login(loginName, password)).body.access_token as string;
    const wrongCode = "87654321";
    await app.call("POST", "/users/me/phone-number/verify", { authorization: bearerOf(token), contentType: verificationRequestType, body: { verificationCode: wrongCode } });
    await app.call("POST", `/users/${userId}/phone-number/reset-verification-code`, { authorization: app.basic });
    await app.call("GET", `/users/${userId}`, { authorization: basic(app.appId, "the wrong app key") });

    const database = openLiveDatabase(server.config.database, { readonly: true });
    try {
      const table = JSON.stringify(database.prepare("SELECT * FROM security_events").all());
      expect(table).toContain(`app:${app.appId}`);
      for (const secret of [app.appKey, password, "a wrong password", token, wrongCode, "the wrong app key"]) {
        expect(table.includes(secret), `a secret in the log: ${secret}`).toBe(false);
      }
    } finally {
      database.close();
    }
  });
});

describe("limits", () => {
  let server: TestServer;
  let app: KiiApp;
  let secondApp: KiiApp;

  beforeAll(async () => {
    server = await startTestServer(["--sends-per-caller-hour", "2"]);
    const organizationId = await fixtures(server.url, server.adminToken).organization(unique("kii"));
    app = await createKiiApp(server, organizationId);
    secondApp = await createKiiApp(server, organizationId);
  });
  afterAll(async () => {
    await server?.close();
  });

  const register = (on: KiiApp, phoneNumber = uniqueMobile()) =>
    on.call("POST", "/users", { authorization: on.basic, contentType: registrationRequestType, body: { loginName: unique("user"), password, phoneNumber } });

  it("count an app as one caller, whichever users it registers or resends for", async () => {
    const first = await register(app);
    expect(first.status).toBe(201);
    expect((await register(app)).status).toBe(201);

    const refused = await register(app);
    expect(refused.status).toBe(429);
    expect(refused.contentType).toBe("application/vnd.kii.TooManyRequestsException+json");
    expect(refused.headers.get("retry-after")).toBe("3600");
    expect(refused.body).toEqual({
      errorCode: "TOO_MANY_REQUESTS",
      message: expect.any(String),
      limit: "sends_per_caller_hour",
      retryAfterSeconds: 3600,
      reason: "SEND_LIMIT_REACHED",
    });
    server.clock.advance(60_000);
    const resend = await app.call("POST", `/users/${first.body.userID}/phone-number/resend-verification`, { authorization: app.basic });
    expect(resend.status).toBe(429);
    expect(resend.body.limit).toBe("sends_per_caller_hour");

    // Another app is another caller; the user itself too.
    expect((await register(secondApp)).status).toBe(201);
    const loginName = first.body.loginName as string;
    const token = bearerOf((await app.login(loginName, password)).body.access_token);
    expect((await app.call("POST", "/users/me/phone-number/resend-verification", { authorization: token })).status).toBe(204);
  });
});

describe("verification limits", () => {
  let server: TestServer;
  let app: KiiApp;

  beforeAll(async () => {
    server = await startTestServer(["--max-consecutive-failures", "2", "--verifications-per-user-hour", "3"]);
    app = await createKiiApp(server, await fixtures(server.url, server.adminToken).organization(unique("kii")));
  });
  afterAll(async () => {
    await server?.close();
  });

  const verify = (userId: string, segment: string, verificationCode: string) =>
    app.call("POST", `/users/${userId}/${segment}/verify`, { authorization: app.basic, contentType: verificationRequestType, body: { verificationCode } });

  async function register(): Promise<{ userId: string; phoneCode: string }> {
    const phone = uniqueMobile();
    let userId = "";
    const phoneCode = await codeSentDuring(server, phone, async () => {
      const registered = await app.call("POST", "/users", {
        authorization: app.basic,
        contentType: registrationRequestType,
        body: { loginName: unique("user"), password, phoneNumber: phone, emailAddress: `${unique("kii")}@example.com` },
      });
      userId = registered.body.userID;
    });
    return { userId, phoneCode };
  }

  it("a locked contact: the wrong code that locks says so, then 429 TOO_MANY_FAILURES with Retry-After", async () => {
    const { userId, phoneCode } = await register();
    const wrong = phoneCode === "000000" ? "111111" : "000000";
    expect((await verify(userId, "phone-number", wrong)).body).toMatchObject({ attemptsLeft: 4, reason: "INVALID_VERIFICATION_CODE" });
    expect((await verify(userId, "phone-number", wrong)).body).toMatchObject({ attemptsLeft: 3, lockedForSeconds: 3600 });
    const locked = await verify(userId, "phone-number", phoneCode);
    expect(locked.status).toBe(429);
    expect(locked.contentType).toBe("application/vnd.kii.TooManyRequestsException+json");
    expect(locked.headers.get("retry-after")).toBe("3600");
    expect(locked.body).toEqual({ errorCode: "TOO_MANY_REQUESTS", message: expect.any(String), retryAfterSeconds: 3600, reason: "TOO_MANY_FAILURES" });
  });

  it("judged attempts per user, phone and email together: 429 VERIFY_LIMIT_REACHED with Retry-After", async () => {
    const { userId, phoneCode } = await register();
    const wrong = phoneCode === "000000" ? "111111" : "000000";
    expect((await verify(userId, "phone-number", wrong)).status).toBe(403);
    expect((await verify(userId, "email-address", wrong)).status).toBe(403);
    expect((await verify(userId, "phone-number", phoneCode)).status).toBe(200);
    const limited = await verify(userId, "email-address", wrong);
    expect(limited.status).toBe(429);
    expect(limited.headers.get("retry-after")).toBe("3600");
    expect(limited.body).toEqual({
      errorCode: "TOO_MANY_REQUESTS",
      message: expect.any(String),
      limit: "verifications_per_user_hour",
      retryAfterSeconds: 3600,
      reason: "VERIFY_LIMIT_REACHED",
    });
  });
});
