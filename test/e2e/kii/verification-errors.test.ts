// Every row of the response tables of Kii's verify pages (phone at /users/{userID}/phone-number/verify, email at
// /users/me/email-address/verify; each tried on both paths), with status, content type and exactly the body fields
// Kii lists, plus our reason and without the submitted code Kii would echo. Then the refusals Kii's pages do not
// list, each as the nearest Kii-style exception with our reason. Last, registrations probing with the app key alone: an
// address another user verified answers as a free one up to where a free one would be sent its code, and costs as much.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { api, fixtures, unique, uniqueMobile } from "../../helpers/api-session.js";
import { bearerOf, codeSentDuring, createKiiApp, deliveredCodes, type KiiApp, kiiChannels, type KiiResponse, registrationRequestType, verificationRequestType } from "../../helpers/kii-client.js";
import { type TestServer, startTestServer } from "../../helpers/test-server.js";

let server: TestServer;
let app: KiiApp;
let otherApp: KiiApp;

beforeAll(async () => {
  server = await startTestServer();
  const setup = fixtures(server.url, server.adminToken);
  app = await createKiiApp(server, await setup.organization(unique("kii")));
  otherApp = await createKiiApp(server, await setup.organization(unique("kii-other")));
});
afterAll(async () => {
  await server?.close();
});

const channels = kiiChannels;

const password = "correct horse battery";

interface Registered {
  userId: string;
  address: string;
  code: string;
  token: string;
}

async function register(on: KiiApp, channel: (typeof channels)[number], address = channel.fresh()): Promise<Registered> {
  const loginName = unique("user");
  let userId = "";
  const code = await codeSentDuring(server, address, async () => {
    const answer = await on.call("POST", "/users", {
      authorization: on.basic,
      contentType: registrationRequestType,
      body: { loginName, password, [channel.field]: address },
    });
    expect(answer.status).toBe(201);
    userId = answer.body.userID;
  });
  const token = bearerOf((await on.login(loginName, password)).body.access_token);
  return { userId, address, code, token };
}

/** PUT of the organization's verification settings, as its owner would over REST; the status. */
async function putVerificationSettings(organizationId: string, settings: Record<string, unknown>): Promise<number> {
  const answer = await fetch(`${server.url}/verifyd/v1/organizations/${organizationId}/verification_settings`, {
    method: "PUT",
    headers: { "content-type": "application/json", authorization: `Bearer ${server.adminToken}` },
    body: JSON.stringify(settings),
  });
  return answer.status;
}

/** The body exactly: errorCode, message and the listed fields, with our reason. */
function expectKiiError(answer: KiiResponse, status: number, exception: string, fields: Record<string, unknown>): void {
  expect(answer.status, JSON.stringify(answer.body)).toBe(status);
  expect(answer.contentType).toBe(`application/vnd.kii.${exception}+json`);
  expect(answer.body).toEqual({ message: expect.any(String), ...fields });
}

describe.each(channels)("Kii's $name verify page, row by row", (channel) => {
  // Seed 000 uses /users/{userID}/… (here with the app's Basic credentials), seed 001 /users/me/… (with the user's token).
  const paths = [
    { path: "/users/{userID}", auth: (_user: Registered) => app.basic, pathOf: (user: Registered) => `/users/${user.userId}` },
    { path: "/users/me", auth: (user: Registered) => user.token, pathOf: (_user: Registered) => "/users/me" },
  ];

  describe.each(paths)("at $path", ({ auth, pathOf }) => {
    const verify = (user: Registered, verificationCode: string, on = app) =>
      on.call("POST", `${pathOf(user)}/${channel.segment}/verify`, {
        authorization: auth(user),
        contentType: verificationRequestType,
        body: { verificationCode },
      });

    it("200 AddressVerificationResponse, then 400 InvalidAccountStatusException once verified", async () => {
      const user = await register(app, channel);
      const done = await verify(user, user.code);
      expect(done.status).toBe(200);
      expect(done.contentType).toBe("application/vnd.kii.AddressVerificationResponse+json");
      expect(done.body).toEqual({ verificationStatus: "VERIFIED" });

      expectKiiError(await verify(user, user.code), 400, "InvalidAccountStatusException", {
        errorCode: "INVALID_ACCOUNT_STATUS",
        userID: user.userId,
        appID: app.appId,
        accountType: channel.accountType,
        reason: "ALREADY_VERIFIED",
      });
    });

    it("403 InvalidVerificationCodeException, without the submitted code", async () => {
      const user = await register(app, channel);
      const wrong = user.code === "000000" ? "111111" : "000000";
      const answer = await verify(user, wrong);
      expectKiiError(answer, 403, "InvalidVerificationCodeException", {
        errorCode: "INVALID_VERIFICATION_CODE",
        userID: user.userId,
        appID: app.appId,
        attemptsLeft: 4,
        reason: "INVALID_VERIFICATION_CODE",
      });
      expect(JSON.stringify(answer.body)).not.toContain(wrong);
    });

    it("409 AddressAlreadyInUseException when another user of the app verified the address first", async () => {
      const first = await register(app, channel);
      server.clock.advance(60_000);
      const second = await register(app, channel, first.address);
      expect((await verify(first, first.code)).status).toBe(200);
      expectKiiError(await verify(second, second.code), 409, "AddressAlreadyInUseException", {
        errorCode: "USER_ALREADY_EXISTS",
        field: channel.field,
        value: first.address,
        reason: channel.inUse,
      });
    });

    it("409 AddressAlreadyInUseException at registration for an address another user verified, sending it nothing", async () => {
      const owner = await register(app, channel);
      expect((await verify(owner, owner.code)).status).toBe(200);
      server.clock.advance(60_000);
      const mark = server.delivered.length;
      const spelling = channel.field === "emailAddress" ? owner.address.toUpperCase() : owner.address;
      const taken = await app.call("POST", "/users", {
        authorization: app.basic,
        contentType: registrationRequestType,
        body: { loginName: unique("user"), password, [channel.field]: spelling },
      });
      expectKiiError(taken, 409, "AddressAlreadyInUseException", { errorCode: "USER_ALREADY_EXISTS", field: channel.field, value: spelling, reason: channel.inUse });
      expect(await deliveredCodes(server, owner.address, mark)).toEqual([]);
    });

    it("a registration that is refused anyway does not say whether the address is taken: the weak password first", async () => {
      const owner = await register(app, channel);
      expect((await verify(owner, owner.code)).status).toBe(200);
      // With only the app key, which ships inside every copy of the app, a probe that creates nobody.
      const probe = (address: string) =>
        app.call("POST", "/users", { authorization: app.basic, contentType: registrationRequestType, body: { password: "x", [channel.field]: address } });
      const other = channel.field === "emailAddress" ? `${unique("free")}@example.com` : uniqueMobile();
      for (const address of [owner.address, other]) {
        expectKiiError(await probe(address), 400, "InvalidInputDataException", { errorCode: "INVALID_INPUT_DATA", invalidFields: { password: expect.any(String) }, reason: "PASSWORD_TOO_WEAK" });
      }
    });

    it("404 UserNotFoundException for a user the app does not have", async () => {
      // The user exists, in another app's organization: to this app it is no user at all.
      const stranger = await register(otherApp, channel);
      expectKiiError(await verify(stranger, stranger.code), 404, "UserNotFoundException", {
        errorCode: "USER_NOT_FOUND",
        field: "userID",
        value: stranger.userId,
        appID: app.appId,
        reason: "USER_NOT_FOUND",
      });
    });
  });

  it("404 UserNotFoundException for an id nobody has", async () => {
    const answer = await app.call("POST", `/users/999999999999/${channel.segment}/verify`, {
      authorization: app.basic,
      contentType: verificationRequestType,
      body: { verificationCode: "123456" },
    });
    expectKiiError(answer, 404, "UserNotFoundException", {
      errorCode: "USER_NOT_FOUND",
      field: "userID",
      value: "999999999999",
      appID: app.appId,
      reason: "USER_NOT_FOUND",
    });
  });

  it("401 UserDisabledException for a deactivated user (whose own token stops working)", async () => {
    const user = await register(app, channel);
    await api(server.url, server.adminToken).users.deactivateUser({ userId: user.userId });
    const verify = (path: string, authorization: string) =>
      app.call("POST", `${path}/${channel.segment}/verify`, { authorization, contentType: verificationRequestType, body: { verificationCode: user.code } });
    expectKiiError(await verify(`/users/${user.userId}`, app.basic), 401, "UserDisabledException", {
      errorCode: "USER_DISABLED",
      UserID: user.userId,
      appID: app.appId,
      reason: "USER_DISABLED",
    });
    expectKiiError(await verify("/users/me", user.token), 401, "UnauthorizedAccessException", {
      errorCode: "UNAUTHORIZED",
      reason: "UNAUTHENTICATED",
    });
  });
});

describe.each(channels)("what Kii's pages do not list, for the $name", (channel) => {
  const verify = (user: Registered, verificationCode: string) =>
    app.call("POST", `/users/${user.userId}/${channel.segment}/verify`, {
      authorization: app.basic,
      contentType: verificationRequestType,
      body: { verificationCode },
    });
  const codeRefusal = (user: Registered, reason: string, extra: Record<string, unknown> = {}) => ({
    errorCode: "INVALID_VERIFICATION_CODE",
    userID: user.userId,
    appID: app.appId,
    ...extra,
    reason,
  });

  it("an expired code: 403 InvalidVerificationCodeException, CODE_EXPIRED", async () => {
    const user = await register(app, channel);
    server.clock.advance(10 * 60_000 + 1);
    expectKiiError(await verify(user, user.code), 403, "InvalidVerificationCodeException", codeRefusal(user, "CODE_EXPIRED"));
  });

  it("a dead code (5 wrong attempts): 403 InvalidVerificationCodeException, MAX_ATTEMPTS_REACHED, even for the right code", async () => {
    const user = await register(app, channel);
    const wrong = user.code === "000000" ? "111111" : "000000";
    for (let attempt = 4; attempt >= 0; attempt--) {
      expect((await verify(user, wrong)).body).toMatchObject({ reason: "INVALID_VERIFICATION_CODE", attemptsLeft: attempt });
    }
    expectKiiError(await verify(user, user.code), 403, "InvalidVerificationCodeException", codeRefusal(user, "MAX_ATTEMPTS_REACHED"));
  });

  it("no address at all: 404 UserWithoutAddressException, for verify and resend", async () => {
    const loginName = unique("user");
    const registered = await app.call("POST", "/users", { authorization: app.basic, contentType: "application/json", body: { loginName, password } });
    expect(registered.status).toBe(201);
    const userId = registered.body.userID as string;
    const fields = { errorCode: "USER_ADDRESS_NOT_FOUND", userID: userId, appID: app.appId, reason: "NO_PENDING_CODE" };
    expectKiiError(await verify({ userId, address: "", code: "", token: "" }, "123456"), 404, "UserWithoutAddressException", fields);
    const resend = await app.call("POST", `/users/${userId}/${channel.segment}/resend-verification`, { authorization: app.basic });
    expectKiiError(resend, 404, "UserWithoutAddressException", fields);
    expect(resend.body.message).toBe(channel.field === "phoneNumber" ? "The user has no phone number" : "The user has no email address");
  });

  it("a resend for a verified address: 400 InvalidAccountStatusException", async () => {
    const user = await register(app, channel);
    expect((await verify(user, user.code)).status).toBe(200);
    const resend = await app.call("POST", `/users/me/${channel.segment}/resend-verification`, { authorization: user.token });
    expectKiiError(resend, 400, "InvalidAccountStatusException", {
      errorCode: "INVALID_ACCOUNT_STATUS",
      userID: user.userId,
      appID: app.appId,
      accountType: channel.accountType,
      reason: "ALREADY_VERIFIED",
    });
  });
});

describe("refused registrations", () => {
  const registration = (body: Record<string, unknown>) =>
    app.call("POST", "/users", { authorization: app.basic, contentType: registrationRequestType, body: { password, ...body } });
  const invalid = (field: string, reason: string) => ({
    errorCode: "INVALID_INPUT_DATA",
    invalidFields: { [field]: expect.any(String) },
    reason,
  });

  it("a login name taken in the organization: 409 AddressAlreadyInUseException on loginName", async () => {
    const loginName = unique("user");
    expect((await registration({ loginName })).status).toBe(201);
    expectKiiError(await registration({ loginName }), 409, "AddressAlreadyInUseException", {
      errorCode: "USER_ALREADY_EXISTS",
      field: "loginName",
      value: loginName,
      reason: "USERNAME_TAKEN",
    });
    // In any case of its letters (found by a hostile-client trial: Alice, ALICE and alice were three users).
    expectKiiError(await registration({ loginName: loginName.toUpperCase() }), 409, "AddressAlreadyInUseException", {
      errorCode: "USER_ALREADY_EXISTS",
      field: "loginName",
      value: loginName.toUpperCase(),
      reason: "USERNAME_TAKEN",
    });
    // Login names are unique per organization: another app's organization may have the same.
    const elsewhere = await otherApp.call("POST", "/users", { authorization: otherApp.basic, contentType: registrationRequestType, body: { loginName, password } });
    expect(elsewhere.status).toBe(201);
  });

  it("an address nobody verified blocks no registration: without a loginName the user has none, not the address", async () => {
    const emailAddress = `${unique("unclaimed")}@example.com`;
    const first = await registration({ emailAddress });
    expect(first.status).toBe(201);
    expect(first.body).not.toHaveProperty("loginName");
    const second = await registration({ emailAddress });
    expect(second.status).toBe(201);
    expect(second.body.userID).not.toBe(first.body.userID);
    expect(second.body).toMatchObject({ emailAddress, emailAddressVerified: false });
  });

  it("bad input: 400 InvalidInputDataException naming the field, with our reason", async () => {
    expectKiiError(await registration({ phoneNumber: "+41 44 668 18 00" }), 400, "InvalidInputDataException", invalid("phoneNumber", "PHONE_INVALID"));
    expectKiiError(await registration({ phoneNumber: "079 123 45 67" }), 400, "InvalidInputDataException", invalid("phoneNumber", "PHONE_INVALID"));
    expectKiiError(await registration({ emailAddress: "not an address" }), 400, "InvalidInputDataException", invalid("emailAddress", "EMAIL_INVALID"));
    expectKiiError(
      await registration({ loginName: unique("user"), password: "short" }),
      400,
      "InvalidInputDataException",
      invalid("password", "PASSWORD_TOO_WEAK"),
    );
    expectKiiError(await registration({ loginName: 42 }), 400, "InvalidInputDataException", invalid("loginName", "FIELD_INVALID"));
    for (const loginName of ["ab", "ada@example.com", "+41791234567", "a b c", "x".repeat(65)]) {
      expectKiiError(await registration({ loginName }), 400, "InvalidInputDataException", invalid("loginName", "FIELD_INVALID"));
    }
    expectKiiError(await registration({ displayName: "Nobody" }), 400, "InvalidInputDataException", invalid("loginName", "FIELD_INVALID"));
    const reordering = await registration({ loginName: unique("user"), displayName: "Ada \u202eevil" });
    expectKiiError(reordering, 400, "InvalidInputDataException", invalid("displayName", "TEXT_INVALID"));
    expect(reordering.body.message).toMatch(/^displayName may not hold characters that reorder text/);
    for (const locale of ["de\u202e\u0000", "../../etc/passwd", "de__CH"]) {
      const notALanguage = await registration({ loginName: unique("user"), locale });
      expectKiiError(notALanguage, 400, "InvalidInputDataException", invalid("locale", "TEXT_INVALID"));
      expect(notALanguage.body.message).toBe('locale must be a BCP 47 language tag, such as "de" or "de-CH"');
    }
    const noPassword = await app.call("POST", "/users", { authorization: app.basic, contentType: registrationRequestType, body: { loginName: unique("user") } });
    expectKiiError(noPassword, 400, "InvalidInputDataException", invalid("password", "FIELD_INVALID"));
  });

  it("a locale that is a BCP 47 language tag is kept and shown as given", async () => {
    const registered = await registration({ loginName: unique("user"), locale: "zh-Hant-TW" });
    expect(registered.status).toBe(201);
    expect(registered.body).toMatchObject({ locale: "zh-Hant-TW" });
  });

  it("a national number with its country is read in that country; a bad country is refused", async () => {
    const registered = await registration({ loginName: unique("user"), phoneNumber: "079 555 12 34", country: "CH" });
    expect(registered.status).toBe(201);
    expect(registered.body).toMatchObject({ phoneNumber: "+41795551234", phoneNumberVerified: false });
    expect(registered.body.country).toBeUndefined();
    const lowerCase = await registration({ loginName: unique("user"), phoneNumber: "079 555 12 36", country: "ch" });
    expect(lowerCase.body).toMatchObject({ phoneNumber: "+41795551236" });
    expectKiiError(
      await registration({ loginName: unique("user"), phoneNumber: "079 555 12 35", country: "XX" }),
      400,
      "InvalidInputDataException",
      invalid("country", "FIELD_INVALID"),
    );
    expectKiiError(
      await registration({ loginName: unique("user"), country: "CH" }),
      400,
      "InvalidInputDataException",
      invalid("country", "FIELD_UNSUPPORTED"),
    );
  });

  it("a number the organization sends no SMS to: 400 InvalidInputDataException, PHONE_COUNTRY_NOT_ALLOWED", async () => {
    const allowList = { phoneCountries: { mode: "PHONE_COUNTRIES_MODE_ALLOW_LIST", callingCodes: ["49"] } };
    expect(await putVerificationSettings(app.organizationId, allowList)).toBe(200);
    try {
      const refused = await registration({ loginName: unique("user"), phoneNumber: uniqueMobile() });
      expectKiiError(refused, 400, "InvalidInputDataException", invalid("phoneNumber", "PHONE_COUNTRY_NOT_ALLOWED"));
    } finally {
      await putVerificationSettings(app.organizationId, {});
    }
  });
});

/** A new app, and a user of it who verified an address: the registration was the app's one send so far. */
async function appWithVerifiedAddress(channel: (typeof channels)[number]): Promise<{ on: KiiApp; owner: Registered }> {
  const on = await createKiiApp(server, await fixtures(server.url, server.adminToken).organization(unique("kii-probed")));
  const owner = await register(on, channel);
  const verified = await on.call("POST", `/users/${owner.userId}/${channel.segment}/verify`, {
    authorization: on.basic,
    contentType: verificationRequestType,
    body: { verificationCode: owner.code },
  });
  expect(verified.status).toBe(200);
  return { on, owner };
}

describe.each(channels)("registration probes with the app key, for the $name", (channel) => {
  // With only the app key, which ships inside every copy of the app, a registration that names an address.
  const probe = (on: KiiApp, address: string, fields: Record<string, unknown> = {}) =>
    on.call("POST", "/users", { authorization: on.basic, contentType: registrationRequestType, body: { password, [channel.field]: address, ...fields } });

  it("past the caller's send limit, a taken address answers as a free one: the same 429 SEND_LIMIT_REACHED", async () => {
    const { on, owner } = await appWithVerifiedAddress(channel);
    expect(await putVerificationSettings(on.organizationId, { limits: { sendsPerCallerHour: 1 } })).toBe(200);
    const taken = await probe(on, owner.address);
    const free = await probe(on, channel.fresh());
    expectKiiError(free, 429, "TooManyRequestsException", {
      errorCode: "TOO_MANY_REQUESTS",
      retryAfterSeconds: 3600,
      limit: "sends_per_caller_hour",
      reason: "SEND_LIMIT_REACHED",
    });
    expect(taken.status, JSON.stringify(taken.body)).toBe(429);
    expect(taken.body).toEqual(free.body);
    expect(taken.headers.get("retry-after")).toBe(free.headers.get("retry-after"));
  });

  it("within the limits, a taken address answers 409 and sends nothing, but costs the caller a send", async () => {
    const { on, owner } = await appWithVerifiedAddress(channel);
    expect(await putVerificationSettings(on.organizationId, { limits: { sendsPerCallerHour: 2 } })).toBe(200);
    const mark = server.delivered.length;
    expect((await probe(on, owner.address)).body).toMatchObject({ errorCode: "USER_ALREADY_EXISTS", reason: channel.inUse });
    expect(await deliveredCodes(server, owner.address, mark)).toEqual([]);
    expect((await probe(on, channel.fresh())).body).toMatchObject({ reason: "SEND_LIMIT_REACHED", limit: "sends_per_caller_hour" });
  });

  it("a registration refused for another of its fields is refused for it, whether its address is taken or free", async () => {
    const { on, owner } = await appWithVerifiedAddress(channel);
    for (const address of [owner.address, channel.fresh()]) {
      expectKiiError(await probe(on, address, { locale: "de__CH" }), 400, "InvalidInputDataException", {
        errorCode: "INVALID_INPUT_DATA",
        invalidFields: { locale: expect.any(String) },
        reason: "TEXT_INVALID",
      });
    }
  });

  it("a registration under a taken login name is refused for the name, whether its address is taken or free", async () => {
    const { on, owner } = await appWithVerifiedAddress(channel);
    const loginName = unique("user");
    const named = await on.call("POST", "/users", { authorization: on.basic, contentType: registrationRequestType, body: { loginName, password } });
    expect(named.status).toBe(201);
    for (const address of [owner.address, channel.fresh()]) {
      expectKiiError(await probe(on, address, { loginName }), 409, "AddressAlreadyInUseException", {
        errorCode: "USER_ALREADY_EXISTS",
        field: "loginName",
        value: loginName,
        reason: "USERNAME_TAKEN",
      });
    }
  });
});

it("a registration probe naming a taken number and a free address costs its two sends: one short, the 429 of two free ones", async () => {
  const [phone, email] = channels;
  const { on, owner } = await appWithVerifiedAddress(phone);
  expect(await putVerificationSettings(on.organizationId, { limits: { sendsPerCallerHour: 2 } })).toBe(200);
  const probe = (phoneNumber: string) =>
    on.call("POST", "/users", { authorization: on.basic, contentType: registrationRequestType, body: { password, phoneNumber, emailAddress: email.fresh() } });
  const taken = await probe(owner.address);
  const free = await probe(phone.fresh());
  expect(free.body).toMatchObject({ reason: "SEND_LIMIT_REACHED", limit: "sends_per_caller_hour" });
  expect(taken.status, JSON.stringify(taken.body)).toBe(429);
  expect(taken.body).toEqual(free.body);
});
