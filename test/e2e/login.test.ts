// POST /oauth2/token over real HTTP against the real endpoint, stores and crypto on a real SQLite file. Users are
// driven through UserCommands, the same use cases the RPCs call; tokens are checked in the token store.
import { randomInt } from "node:crypto";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, expect, it, onTestFinished } from "vitest";
import { hashAccessToken, issueAccessToken } from "../../src/crypto/access-token-secret.js";
import { PasswordLogin } from "../../src/domain/credentials/password-login.js";
import { createIdGenerator } from "../../src/domain/ids.js";
import { createLogger } from "../../src/logger.js";
import { SqliteAccessTokenStore } from "../../src/store/sqlite/sqlite-access-token-store.js";
import { SqliteLoginStore } from "../../src/store/sqlite/sqlite-login-store.js";
import { SqliteOrganizationStore } from "../../src/store/sqlite/sqlite-organization-store.js";
import { createTokenEndpoint } from "../../src/transport/oauth/token-endpoint.js";
import { createLoginsPerClient } from "../../src/transport/oauth/logins-per-client.js";
import { actor, passwordHasher, phonePolicy, userCommandsOn } from "../helpers/user-commands-harness.js";
import { openTemp } from "../store/support/temp-database.js";
import { Registry } from "prom-client";
import { createCallMetrics } from "../../src/metrics/call-metrics.js";

const loginTtlMs = 12 * 3_600_000;
const maxBodyBytes = 4_096;
const password = "correct horse battery";
const wrongCredentials = { error: "invalid_grant", error_description: "The username or password is wrong" };

async function startLoginServer() {
  const { db } = openTemp();
  let now = Date.UTC(2026, 10, 22, 12, 0, 0);
  const clock = { now: () => new Date(now) };
  const commands = userCommandsOn(db, { clock });
  const tokens = new SqliteAccessTokenStore(db);
  const login = new PasswordLogin({
    logins: new SqliteLoginStore(db),
    passwords: passwordHasher,
    tokens,
    issueToken: issueAccessToken,
    newId: createIdGenerator(clock.now, randomInt),
    clock,
    tokenTtlMs: loginTtlMs,
    phone: phonePolicy,
  });
  // What the security log records of logins is tested with the whole server (security-log.test.ts).
  const endpoint = createTokenEndpoint({
    login,
    recordSecurityEvent: async () => {},
    maxBodyBytes,
    loginsNeedOrganization: false,
    loginsUnderWay: createLoginsPerClient(100, 100),
    logger: createLogger("silent"),
    calls: createCallMetrics(new Registry()),
  });
  const server = createServer((req, res) => {
    if (!endpoint(req, res)) res.writeHead(404).end("not the token endpoint");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  onTestFinished(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/oauth2/token`;

  /** A form-encoded password grant, as RFC 6749 has it. */
  async function token(username: string, secret = password) {
    const body = new URLSearchParams({ grant_type: "password", username, password: secret });
    const response = await fetch(url, { method: "POST", body });
    return { status: response.status, headers: response.headers, body: (await response.json()) as Record<string, unknown> };
  }
  const advance = (ms: number) => void (now += ms);
  return { db, commands, tokens, clock, advance, url, token };
}

const person = { profile: { givenName: "Ada", familyName: "Lovelace" } };
const returnCode = { kind: "return" as const };
const verified = { kind: "verified" as const };
const plain = { kind: "plain" as const, password };

describe("POST /oauth2/token", () => {
  it("logs in by username: a bearer login token the token store finds until loginTtl has passed", async () => {
    const { commands, tokens, clock, advance, token } = await startLoginServer();
    const { userId } = await commands.addHumanUser({ ...person, username: "ada", password: plain }, actor);

    const answer = await token("ada");
    expect(answer).toMatchObject({ status: 200, body: { id: userId, expires_in: loginTtlMs / 1000, token_type: "bearer" } });
    expect(answer.headers.get("cache-control")).toBe("no-store");
    const accessToken = answer.body.access_token as string;
    expect(accessToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(await tokens.findValid(hashAccessToken(accessToken), clock.now())).toMatchObject({ userId, kind: "login" });
    advance(loginTtlMs - 1);
    expect(await tokens.findValid(hashAccessToken(accessToken), clock.now())).toBeDefined();
    advance(1);
    expect(await tokens.findValid(hashAccessToken(accessToken), clock.now())).toBeUndefined();
  });

  it("takes the parameters as JSON too", async () => {
    const { commands, url } = await startLoginServer();
    const { userId } = await commands.addHumanUser({ ...person, username: "ada", password: plain }, actor);
    const response = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ grant_type: "password", username: "ada", password }),
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ id: userId, token_type: "bearer" });
  });

  it("logs in by verified phone number (any spelling) and verified email address, not by unverified ones", async () => {
    const { commands, token } = await startLoginServer();
    const { userId } = await commands.addHumanUser({
      ...person,
      phone: { value: "+41791234567", verification: verified },
      email: { value: "ada@example.com", verification: verified },
      password: plain,
    }, actor);
    await commands.addHumanUser({
      ...person,
      username: "grace",
      phone: { value: "+41781110002", verification: returnCode },
      email: { value: "grace@example.com", verification: returnCode },
      password: plain,
    }, actor);

    for (const name of ["+41791234567", "+41 79 123 45 67", "ada@example.com", "ada@EXAMPLE.com"]) {
      expect(await token(name), name).toMatchObject({ status: 200, body: { id: userId } });
    }
    for (const name of ["+41781110002", "grace@example.com"]) {
      expect(await token(name), name).toMatchObject({ status: 400, body: wrongCredentials });
    }
  });

  it("an email address that is also the username (the default) logs in only once verified, and not after it was replaced", async () => {
    const { commands, token } = await startLoginServer();
    const { userId, emailCode } = await commands.addHumanUser({
      ...person,
      email: { value: "hedy@example.com", verification: returnCode },
      password: plain,
    }, actor);
    expect(await commands.getUser(userId)).toMatchObject({ username: "hedy@example.com" });
    expect(await token("hedy@example.com")).toMatchObject({ status: 400, body: wrongCredentials });

    await commands.verify(userId, "email", emailCode as string, actor);
    expect(await token("hedy@example.com")).toMatchObject({ status: 200, body: { id: userId } });

    const { code } = await commands.setContact(userId, "email", { value: "hedy@new.example", verification: returnCode }, actor);
    await commands.verify(userId, "email", code as string, actor);
    expect(await token("hedy@new.example")).toMatchObject({ status: 200, body: { id: userId } });
    expect(await token("hedy@example.com")).toMatchObject({ status: 400, body: wrongCredentials });
  });

  it("during a change of a verified phone: the old number logs in and the new one not, until the new one is verified", async () => {
    const { commands, token } = await startLoginServer();
    const { userId } = await commands.addHumanUser({ ...person, phone: { value: "+41791234567", verification: verified }, password: plain }, actor);
    const { code } = await commands.setContact(userId, "phone", { value: "+41781110002", verification: returnCode }, actor);
    expect(await commands.getUser(userId)).toMatchObject({ phone: { verified: "+41791234567", pending: "+41781110002" } });
    expect(await token("+41791234567")).toMatchObject({ status: 200, body: { id: userId } });
    expect(await token("+41781110002")).toMatchObject({ status: 400, body: wrongCredentials });

    await commands.verify(userId, "phone", code as string, actor);
    expect(await commands.getUser(userId)).toMatchObject({ phone: { verified: "+41781110002" } });
    expect(await token("+41781110002")).toMatchObject({ status: 200, body: { id: userId } });
    expect(await token("+41791234567")).toMatchObject({ status: 400, body: wrongCredentials });
  });

  it("answers every refusal alike: wrong password, unknown name, no password, inactive, locked, service account, ambiguous", async () => {
    const { db, clock, commands, token } = await startLoginServer();
    await commands.addHumanUser({ ...person, username: "ada", password: plain }, actor);
    await commands.addHumanUser({ ...person, username: "nopassword" }, actor);
    const { userId: inactive } = await commands.addHumanUser({ ...person, username: "inactive", password: plain }, actor);
    await commands.changeStatus(inactive, "deactivate");
    const { userId: locked } = await commands.addHumanUser({ ...person, username: "locked", password: plain }, actor);
    await commands.changeStatus(locked, "lock");
    await commands.createMachineUser({ username: "bot", name: "Bot", description: "" });
    await new SqliteOrganizationStore(db, () => "unused").add({ id: "org-2", name: "Other", createdAt: clock.now() });
    await commands.addHumanUser({ ...person, username: "twice", password: plain }, actor);
    await commands.addHumanUser({ ...person, username: "twice", password: plain, organizationId: "org-2" }, actor);

    const refusals = [
      await token("ada", "wrong password"),
      await token("nobody"),
      await token("nopassword"),
      await token("inactive"),
      await token("locked"),
      await token("bot"),
      await token("bot", ""),
      await token("twice"),
    ];
    for (const refusal of refusals) {
      expect({ status: refusal.status, body: refusal.body }).toEqual({ status: 400, body: wrongCredentials });
    }
    expect(await token("ada")).toMatchObject({ status: 200 });
  });

  it("throttles a login name after 5 failures in a row, without checking the password, until the wait is over", async () => {
    const { commands, advance, token } = await startLoginServer();
    const { userId } = await commands.addHumanUser({ ...person, username: "ada", password: plain }, actor);
    for (let i = 0; i < 5; i++) expect((await token("ada", "wrong password")).status).toBe(400);

    const throttled = await token("ada");
    expect(throttled).toMatchObject({ status: 429, body: { error: "slow_down" } });
    expect(throttled.headers.get("retry-after")).toBe("1");
    advance(1_000);
    expect((await token("ada", "wrong password")).status).toBe(400);
    const longer = await token("ada");
    expect(longer.status).toBe(429);
    expect(longer.headers.get("retry-after")).toBe("2");
    advance(2_000);
    expect(await token("ada")).toMatchObject({ status: 200, body: { id: userId } });
    // Success starts the count again: five more mistakes before the next wait.
    for (let i = 0; i < 5; i++) expect((await token("ada", "wrong password")).status).toBe(400);
    expect((await token("ada")).status).toBe(429);
  });

  it("throttles names nobody has, too, so that throttling tells nothing", async () => {
    const { token } = await startLoginServer();
    for (let i = 0; i < 5; i++) expect((await token("nobody")).status).toBe(400);
    expect(await token("nobody")).toMatchObject({ status: 429, body: { error: "slow_down" } });
  });

  // No user has a longer name or organization id; a name of 64 KiB was counted, throttled and logged, and its log line's
  // redaction held the server for seconds (a white-box review's finding).
  it("refuses a login name or organization id longer than any, before it counts or logs it: never throttled", async () => {
    const { token, url } = await startLoginServer();
    const long = `${"a".repeat(200)}%`;
    for (let i = 0; i < 6; i++) {
      expect(await token(long)).toMatchObject({ status: 400, body: { error: "invalid_request", error_description: expect.stringContaining("longer than 200") } });
    }
    expect((await token("a".repeat(200))).status).toBe(400);
    const body = new URLSearchParams({ grant_type: "password", username: "ada", password, organization_id: "9".repeat(201) });
    const response = await fetch(url, { method: "POST", body });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: "invalid_request", error_description: expect.stringContaining("organization_id") });
  });

  it("refuses other grants, unreadable bodies, oversized bodies and other methods; leaves other paths alone", async () => {
    const { url } = await startLoginServer();
    const post = (body: string | URLSearchParams, contentType?: string) =>
      fetch(url, { method: "POST", body, ...(contentType ? { headers: { "content-type": contentType } } : {}) });

    const clientCredentials = await post(new URLSearchParams({ grant_type: "client_credentials" }));
    expect(clientCredentials.status).toBe(400);
    expect(await clientCredentials.json()).toMatchObject({ error: "unsupported_grant_type" });
    for (const [body, type] of [
      ["grant_type=password&username=ada&password=x", "text/plain"],
      ["{not json", "application/json"],
      ['["grant_type", "password"]', "application/json"],
      ["grant_type=password&username=ada&password=a&password=b", "application/x-www-form-urlencoded"],
      // As in a form: a proxy that reads the first of two passwords or names must not see another login than verifyd.
      ['{"grant_type":"password","username":"nobody","username":"ada","password":"x"}', "application/json"],
      ['{"grant_type":"password","username":"ada","password":"x","organization_id":"a","organization_id":"b"}', "application/json"],
      // A parameter verifyd reads is a string, or the request is refused rather than read as if it were missing.
      ['{"grant_type":"password","username":"ada","password":"x","organization_id":123}', "application/json"],
      ['{"grant_type":"password","username":["ada"],"password":"x"}', "application/json"],
      ["grant_type=password&password=x", "application/x-www-form-urlencoded"],
      // RFC 6749 §5.2: a missing grant_type is an invalid request, not an unsupported grant.
      ["username=ada&password=x", "application/x-www-form-urlencoded"],
      // Kii's own JSON type is taken at Kii's token endpoint only.
      ['{"grant_type":"password","username":"ada","password":"x"}', "application/vnd.kii.OauthTokenRequest+json"],
    ] as const) {
      const response = await post(body, type);
      expect(response.status, body).toBe(400);
      expect(await response.json(), body).toMatchObject({ error: "invalid_request" });
    }
    const oversized = await post(new URLSearchParams({ grant_type: "password", username: "ada", password: "x".repeat(maxBodyBytes) }));
    expect(oversized.status).toBe(413);
    const get = await fetch(url);
    expect(get.status).toBe(405);
    expect(get.headers.get("allow")).toBe("POST");
    expect((await fetch(url.replace("/oauth2/token", "/oauth2/tokens"), { method: "POST" })).status).toBe(404);
  });
});
