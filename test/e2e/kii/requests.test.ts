// What a Kii request must look like: JSON as application/json or one of Kii's application/vnd.kii.*+json types, at
// most --max-body-bytes, read only once the credentials passed; fields verifyd cannot honour refused by name; Kii's
// paths only (a Kii-style 404 or 405 for anything else under /api/apps/).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fixtures, unique, uniqueMobile } from "../../helpers/api-session.js";
import { openEventReader } from "../../helpers/events.js";
import { type KiiApp, type KiiResponse, basic, bearerOf, createKiiApp, verificationRequestType } from "../../helpers/kii-client.js";
import { type TestServer, startTestServer } from "../../helpers/test-server.js";

let server: TestServer;
let app: KiiApp;
let userId: string;
let token: string;

const password = "correct horse battery";

beforeAll(async () => {
  server = await startTestServer(["--max-body-bytes", "2KiB"]);
  app = await createKiiApp(server, await fixtures(server.url, server.adminToken).organization(unique("kii")));
  const loginName = unique("user");
  const registered = await app.call("POST", "/users", {
    authorization: app.basic,
    contentType: "application/json",
    body: { loginName, password, phoneNumber: uniqueMobile() },
  });
  userId = registered.body.userID;
  token = bearerOf((await app.login(loginName, password)).body.access_token);
});
afterAll(async () => {
  await server?.close();
});

function expectKiiError(answer: KiiResponse, status: number, exception: string, fields: Record<string, unknown>): void {
  expect(answer.status, JSON.stringify(answer.body)).toBe(status);
  expect(answer.contentType).toBe(`application/vnd.kii.${exception}+json`);
  expect(answer.body).toEqual({ message: expect.any(String), ...fields });
}

const verify = (contentType: string | undefined, body: unknown) =>
  app.call("POST", `/users/${userId}/phone-number/verify`, {
    authorization: app.basic,
    ...(contentType === undefined ? {} : { contentType }),
    body,
  });

describe("request bodies", () => {
  it("are JSON under application/json or any Kii type, with parameters", async () => {
    for (const contentType of [verificationRequestType, "application/json", "application/json; charset=utf-8", "application/vnd.kii.AnythingRequest+json"]) {
      const answer = await verify(contentType, { verificationCode: "000000" });
      expect(answer.body.errorCode, contentType).toBe("INVALID_VERIFICATION_CODE");
    }
  });

  it("of another type, or without one, or encoded: 415 UnsupportedMediaTypeException", async () => {
    const unsupported = { errorCode: "UNSUPPORTED_MEDIA_TYPE", reason: "UNSUPPORTED_MEDIA_TYPE" };
    expectKiiError(await verify("text/plain", JSON.stringify({ verificationCode: "1" })), 415, "UnsupportedMediaTypeException", unsupported);
    expectKiiError(await verify("application/x-www-form-urlencoded", "verificationCode=1"), 415, "UnsupportedMediaTypeException", unsupported);
    expectKiiError(await verify(undefined, JSON.stringify({ verificationCode: "1" })), 415, "UnsupportedMediaTypeException", unsupported);
    const encoded = await app.call("POST", `/users/${userId}/phone-number/verify`, {
      authorization: app.basic,
      contentType: verificationRequestType,
      headers: { "content-encoding": "gzip" },
      body: "x",
    });
    expectKiiError(encoded, 415, "UnsupportedMediaTypeException", unsupported);
  });

  it("without a body need no content type (Kii's resend sends none)", async () => {
    server.clock.advance(60_000);
    expect((await app.call("POST", "/users/me/phone-number/resend-verification", { authorization: token })).status).toBe(204);
  });

  it("larger than --max-body-bytes: 413", async () => {
    const answer = await verify(verificationRequestType, { verificationCode: "1", padding: "x".repeat(4096) });
    expectKiiError(answer, 413, "RequestEntityTooLargeException", { errorCode: "REQUEST_ENTITY_TOO_LARGE", reason: "BODY_TOO_LARGE" });
  });

  it("that are not a JSON object: 400", async () => {
    const malformed = { errorCode: "INVALID_INPUT_DATA", reason: "MALFORMED_JSON" };
    expectKiiError(await verify(verificationRequestType, "{\"verificationCode\":"), 400, "InvalidInputDataException", malformed);
    expectKiiError(await verify(verificationRequestType, "[]"), 400, "InvalidInputDataException", malformed);
    expectKiiError(await verify(verificationRequestType, "\"123456\""), 400, "InvalidInputDataException", malformed);
  });

  it("are read only after the credentials passed", async () => {
    const answer = await app.call("POST", `/users/${userId}/phone-number/verify`, {
      authorization: basic(app.appId, "wrong"),
      contentType: "text/plain",
      body: "not even JSON",
    });
    expect(answer.status).toBe(401);
  });
});

describe("request fields", () => {
  it("a verification code is required, a string of at most 20 characters", async () => {
    const invalid = (reason: string) => ({ errorCode: "INVALID_INPUT_DATA", invalidFields: { verificationCode: expect.any(String) }, reason });
    expectKiiError(await verify(verificationRequestType, {}), 400, "InvalidInputDataException", invalid("FIELD_INVALID"));
    expectKiiError(await verify(verificationRequestType, { verificationCode: 123456 }), 400, "InvalidInputDataException", invalid("FIELD_INVALID"));
    expectKiiError(await verify(verificationRequestType, { verificationCode: "1".repeat(21) }), 400, "InvalidInputDataException", invalid("FIELD_INVALID"));
    expectKiiError(await verify(verificationRequestType, { verificationCode: " \n " }), 400, "InvalidInputDataException", invalid("CODE_BLANK"));
  });

  it("that verifyd cannot honour are refused by name, never dropped; Kii's own _fields are ignored as Kii does", async () => {
    const registration = await app.call("POST", "/users", {
      authorization: app.basic,
      contentType: "application/json",
      body: { loginName: unique("user"), password, followers: 5, status: "available", _ignored: true },
    });
    expectKiiError(registration, 400, "InvalidInputDataException", {
      errorCode: "INVALID_INPUT_DATA",
      invalidFields: { followers: expect.any(String), status: expect.any(String) },
      reason: "FIELD_UNSUPPORTED",
    });

    const update = (body: Record<string, unknown>) =>
      app.call("POST", "/users/me", { authorization: token, contentType: "application/vnd.kii.UserUpdateRequest+json", body });
    for (const field of ["displayName", "locale", "loginName", "password", "phoneNumberVerified"]) {
      const answer = await update({ [field]: field === "phoneNumberVerified" ? true : "value" });
      expect(answer.status, field).toBe(400);
      expect(answer.body).toMatchObject({ invalidFields: { [field]: expect.any(String) }, reason: "FIELD_UNSUPPORTED" });
    }
    const unchanged = await update({ _hasPassword: true, _disabled: false });
    expect(unchanged.status).toBe(200);
  });

  it("named after what every object inherits are unsupported like any other; __proto__ is ignored like any _field", async () => {
    const unsupported = (field: string) => ({
      errorCode: "INVALID_INPUT_DATA",
      invalidFields: { [field]: "verifyd does not support this field" },
      reason: "FIELD_UNSUPPORTED",
    });
    for (const field of ["constructor", "toString", "hasOwnProperty", "valueOf"]) {
      const registration = await app.call("POST", "/users", {
        authorization: app.basic,
        contentType: "application/json",
        body: { loginName: unique("user"), password, [field]: "x" },
      });
      expectKiiError(registration, 400, "InvalidInputDataException", unsupported(field));
      const update = await app.call("POST", "/users/me", { authorization: token, contentType: "application/json", body: { [field]: "x" } });
      expectKiiError(update, 400, "InvalidInputDataException", unsupported(field));
      expectKiiError(await verify(verificationRequestType, { verificationCode: "000000", [field]: "x" }), 400, "InvalidInputDataException", unsupported(field));
    }
    // As text: JSON.parse makes __proto__ an own field, as a client's JSON has it, where an object literal would not.
    const registration = await app.call("POST", "/users", {
      authorization: app.basic,
      contentType: "application/json",
      body: `{"loginName":"${unique("user")}","password":"${password}","__proto__":"x"}`,
    });
    expect(registration.status, JSON.stringify(registration.body)).toBe(201);
  });

  it("an update repeating the user's own address changes nothing", async () => {
    const reader = openEventReader(server.config.database);
    try {
      await reader.appended(userId);
      const me = await app.call("GET", "/users/me", { authorization: token });
      const repeated = await app.call("POST", "/users/me", {
        authorization: token,
        contentType: "application/json",
        body: { phoneNumber: me.body.phoneNumber },
      });
      expect(repeated.status).toBe(200);
      expect(await reader.appended(userId)).toEqual([]);
      expect((await app.call("GET", "/users/me", { authorization: token })).body).toEqual(me.body);
    } finally {
      reader.close();
    }
  });
});

describe("paths", () => {
  it("under /api/apps/ that Kii's user API does not have: 404; a wrong method: 405 with Allow", async () => {
    const inherited = ["/users/me/constructor/verify", "/users/me/__proto__/verify", "/users/me/phone-number/toString", "/users/me/email-address/constructor"];
    for (const path of ["/buckets/b/objects", "/users/me/phone-number", "/users/me/phone-number/verify/extra", "/users//phone-number/verify", ...inherited]) {
      const answer = await app.call("POST", path, { authorization: app.basic });
      expectKiiError(answer, 404, "NotFoundException", { errorCode: "NOT_FOUND", reason: "PATH_NOT_FOUND" });
    }
    const get = await app.call("GET", "/users/me/phone-number/verify", { authorization: token });
    expectKiiError(get, 405, "MethodNotAllowedException", { errorCode: "METHOD_NOT_ALLOWED", reason: "METHOD_NOT_ALLOWED" });
    expect(get.headers.get("allow")).toBe("POST");
    const remove = await app.call("DELETE", "/users/me", { authorization: token });
    expect(remove.status).toBe(405);
    expect(remove.headers.get("allow")).toBe("GET, HEAD, POST");
  });

  it("answers HEAD on a user as it answers GET, without the body", async () => {
    const got = await app.call("GET", "/users/me", { authorization: token });
    const head = await app.call("HEAD", "/users/me", { authorization: token });
    expect(got.status).toBe(200);
    expect(head).toMatchObject({ status: 200, contentType: got.contentType, body: undefined });
    expect(head.headers.get("content-length")).toBe(got.headers.get("content-length"));
    expect((await app.call("HEAD", "/users/me")).status).toBe(401);
  });

  it("quotes at most 200 characters of a user reference it cannot find or read", async () => {
    const long = "9".repeat(9_000);
    const missing = await app.call("GET", `/users/${long}`, { authorization: token });
    expect(missing).toMatchObject({ status: 404, body: { errorCode: "USER_NOT_FOUND", value: `${"9".repeat(200)}…` } });
    const reference = await app.call("GET", `/users/LOGIN_NAME:${long}`, { authorization: token });
    expect(reference).toMatchObject({ status: 400, body: { value: `LOGIN_NAME:${"9".repeat(189)}…` } });
  });

  it("naming a user by LOGIN_NAME:, EMAIL: or PHONE: is refused: verifyd finds users by id", async () => {
    const answer = await app.call("GET", "/users/LOGIN_NAME:someone", { authorization: token });
    expectKiiError(answer, 400, "InvalidInputDataException", {
      errorCode: "INVALID_INPUT_DATA",
      value: "LOGIN_NAME:someone",
      reason: "USER_REFERENCE_UNSUPPORTED",
    });
  });
});
