// The log of a real server process, read as an operator reads it: one access line per call over gRPC, gRPC-Web,
// Connect, REST, Kii's API and the login, with the request id the client sent echoed back; probes and scrapes only at
// debug; security events as warnings and information. And a full flow (tokens, codes returned and sent by webhook,
// password logins, wrong codes and passwords, the webhook secret and the keyring in the environment) leaves none of
// its secrets and none of its full phone numbers anywhere in the log, at info or at debug.
import { randomBytes } from "node:crypto";
import { type Server, createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import type { Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { UserService } from "../../src/gen/zitadel/user/v2/user_service_pb.js";
import { fixtures, passwordLogin, rest, unique, uniqueMobile } from "../helpers/api-session.js";
import { createKiiApp, registrationRequestType, verificationRequestType } from "../helpers/kii-client.js";
import { type ServerProcess, serverProcessDirectories, startServerProcess } from "../helpers/server-process.js";

const newDataDir = serverProcessDirectories("verifyd-logging-");

const webhookSecret = `whsec_${randomBytes(32).toString("base64")}`;
const keyMaterial = randomBytes(32).toString("base64");
const password = "correct horse battery";
const wrongPassword = "wrong horse battery";
const profile = { givenName: "Ada", familyName: "Lovelace" };

type LogLine = Record<string, unknown> & { time: string; level: string; message: string };

interface SentMessage {
  to: string;
  text: string;
}

/** The webhook receiver: records each message verifyd hands it, as a receiver that sends it would. */
let receiver: Server;
let receiverUrl: string;
const sent: SentMessage[] = [];

beforeAll(async () => {
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      sent.push((JSON.parse(Buffer.concat(chunks).toString("utf8")) as { data: SentMessage }).data);
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
});

afterAll(async () => {
  receiver.closeAllConnections();
  await new Promise((resolve) => receiver.close(resolve));
});

function startLoggedServer(level: "info" | "debug"): Promise<ServerProcess> {
  return startServerProcess(join(newDataDir(), "verifyd.sqlite"), {
    args: ["--log-level", level],
    env: {
      VERIFYD_KEYS: `1:${keyMaterial}`,
      VERIFYD_WEBHOOK_SECRET: webhookSecret,
      VERIFYD_SMS_WEBHOOK_URL: `${receiverUrl}/sms`,
      VERIFYD_EMAIL_WEBHOOK_URL: `${receiverUrl}/email`,
    },
  });
}

/** The code the receiver got for `to`, waiting for the outbox worker to hand it over. */
async function sentCode(to: string): Promise<string> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const message = sent.find((candidate) => candidate.to === to);
    const code = message && /\b(\d{6})\b/.exec(message.text)?.[1];
    if (code) return code;
    if (Date.now() > deadline) throw new Error(`no code was sent to ${to}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

type RpcProtocol = "grpc" | "grpc-web" | "connect";

function transportFor(protocol: RpcProtocol, baseUrl: string): Transport {
  if (protocol === "grpc") return createGrpcTransport({ baseUrl });
  if (protocol === "grpc-web") return createGrpcWebTransport({ baseUrl, httpVersion: "1.1" });
  return createConnectTransport({ baseUrl, httpVersion: "1.1" });
}

/** GetUserByID over an RPC protocol with the given x-request-id; the x-request-id answered. */
async function getUserOver(protocol: RpcProtocol, baseUrl: string, token: string, userId: string, requestId: string): Promise<string | null> {
  const headers = { authorization: `Bearer ${token}`, "x-request-id": requestId };
  const response = await transportFor(protocol, baseUrl).unary(UserService.method.getUserByID, undefined, undefined, headers, { userId });
  return response.header.get("x-request-id");
}

interface Flow {
  /** Everything that must never be in the log. */
  secrets: string[];
  /** Codes: never in the log as a number of its own (a 6-digit code may be part of a longer id by chance). */
  codes: string[];
  phones: string[];
  emails: string[];
  /** The x-request-id each protocol's call sent, and the one it got back. */
  requestIds: Record<string, { sent: string; answered: string | null }>;
  userId: string;
  appId: string;
}

/** A person's life over every protocol: created, verified, logged in, re-verified; a Kii user likewise. */
async function runFlow(server: ServerProcess): Promise<Flow> {
  const { url, adminToken } = server;
  const setup = fixtures(url, adminToken);
  const organizationId = await setup.organization(unique("logging"));
  const machine = await setup.machine(organizationId);
  const phone = uniqueMobile();
  const email = `${unique("ada")}@example.com`;

  // A code returned to the caller, a wrong code, the right one.
  const added = await rest(url, adminToken, "POST", "/v2/users/human", {
    organization: { orgId: organizationId },
    username: unique("ada"),
    profile,
    phone: { phone, returnCode: {} },
    email: { email, returnCode: {} },
    password: { password },
  });
  expect(added.status).toBe(200);
  const userId = added.body.userId as string;
  const returnedCode = added.body.phoneCode as string;
  const wrongCode = returnedCode === "000000" ? "111111" : "000000";
  expect((await rest(url, adminToken, "POST", `/v2/users/${userId}/phone/verify`, { verificationCode: wrongCode })).status).toBe(400);
  expect((await rest(url, adminToken, "POST", `/v2/users/${userId}/phone/verify`, { verificationCode: returnedCode })).status).toBe(200);

  // Password logins by the verified number: a wrong password, then the right one.
  expect((await passwordLogin(url, phone, wrongPassword)).status).toBe(400);
  const login = await fetch(`${url}/oauth2/token`, {
    method: "POST",
    headers: { "x-request-id": "logging-token" },
    body: new URLSearchParams({ grant_type: "password", username: phone, password }),
  });
  const personToken = ((await login.json()) as { access_token: string }).access_token;

  // A new number of the person's own, with a code sent through the webhook.
  const nextPhone = uniqueMobile();
  expect((await rest(url, personToken, "POST", `/v2/users/${userId}/phone`, { phone: nextPhone, sendCode: {} })).status).toBe(200);
  const sentPhoneCode = await sentCode(nextPhone);
  expect((await rest(url, personToken, "POST", `/v2/users/${userId}/phone/verify`, { verificationCode: sentPhoneCode })).status).toBe(200);

  // The person reads themself over each protocol, with a request id of their own.
  const requestIds: Flow["requestIds"] = { token: { sent: "logging-token", answered: login.headers.get("x-request-id") } };
  for (const protocol of ["grpc", "grpc-web", "connect"] as const) {
    const sentId = `logging-${protocol}`;
    requestIds[protocol] = { sent: sentId, answered: await getUserOver(protocol, url, personToken, userId, sentId) };
  }
  const restRead = await fetch(`${url}/v2/users/${userId}`, { headers: { authorization: `Bearer ${personToken}`, "x-request-id": "logging-rest" } });
  expect(restRead.status).toBe(200);
  requestIds.rest = { sent: "logging-rest", answered: restRead.headers.get("x-request-id") };

  // Kii: an app registers a user, whose code is sent and verified; the user logs in.
  const app = await createKiiApp({ url, adminToken }, organizationId);
  const kiiPhone = uniqueMobile();
  const kiiLoginName = unique("kii");
  const registered = await app.call("POST", "/users", {
    authorization: app.basic,
    contentType: registrationRequestType,
    body: { loginName: kiiLoginName, password, phoneNumber: kiiPhone },
  });
  expect(registered.status).toBe(201);
  const kiiUserId = registered.body.userID as string;
  const kiiCode = await sentCode(kiiPhone);
  const verifyOverKii = (verificationCode: string, requestId?: string) =>
    app.call("POST", `/users/${kiiUserId}/phone-number/verify`, {
      authorization: app.basic,
      contentType: verificationRequestType,
      body: { verificationCode },
      ...(requestId ? { headers: { "x-request-id": requestId } } : {}),
    });
  expect((await verifyOverKii(wrongCode)).status).toBe(403);
  const kiiVerified = await verifyOverKii(kiiCode, "logging-kii");
  expect(kiiVerified.status).toBe(200);
  requestIds.kii = { sent: "logging-kii", answered: kiiVerified.headers.get("x-request-id") };
  const kiiToken = (await app.login(kiiLoginName, password)).body.access_token as string;

  // Probes and a scrape, which only debug logs.
  expect((await fetch(`${url}/healthz`)).status).toBe(200);
  expect((await fetch(`${url}/metrics`)).status).toBe(200);

  return {
    secrets: [adminToken, machine.token, personToken, kiiToken, app.appKey, password, wrongPassword, webhookSecret, keyMaterial],
    codes: [returnedCode, wrongCode, sentPhoneCode, kiiCode, added.body.emailCode as string],
    phones: [phone, nextPhone, kiiPhone],
    emails: [email],
    requestIds,
    userId,
    appId: app.appId,
  };
}

/** Runs the flow, stops the server (so that every line is written) and returns the flow and the parsed log. */
async function flowLogged(level: "info" | "debug"): Promise<{ flow: Flow; stderr: string[]; lines: LogLine[] }> {
  const server = await startLoggedServer(level);
  const flow = await runFlow(server);
  expect((await server.stop()).code).toBe(0);
  return { flow, stderr: server.stderr, lines: server.stderr.map((line) => JSON.parse(line) as LogLine) };
}

function expectNoSecrets(stderr: string[], flow: Flow): void {
  const log = stderr.join("\n");
  for (const secret of flow.secrets) expect(log.includes(secret), `a secret in the log: ${secret}`).toBe(false);
  for (const code of flow.codes) expect(log, `a code in the log: ${code}`).not.toMatch(new RegExp(`(?<![0-9])${code}(?![0-9])`));
  for (const phone of flow.phones) {
    // With and without the +, and without the country code.
    for (const form of [phone, phone.slice(1), phone.slice(3)]) expect(log.includes(form), `a phone number in the log: ${form}`).toBe(false);
  }
  for (const email of flow.emails) expect(log.includes(email), `an address in the log: ${email}`).toBe(false);
}

describe("the log at info", () => {
  let flow: Flow;
  let stderr: string[];
  let lines: LogLine[];

  beforeAll(async () => {
    ({ flow, stderr, lines } = await flowLogged("info"));
  });

  const accessLine = (requestId: string) => {
    const found = lines.filter((line) => line.message === "call" && line.requestId === requestId);
    expect(found, requestId).toHaveLength(1);
    return found[0] as LogLine;
  };

  it("is one JSON object per line, with time, level and message", () => {
    for (const line of lines) {
      expect(line).toMatchObject({ time: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/), level: expect.any(String), message: expect.any(String) });
    }
    expect(lines.filter((line) => line.level === "debug")).toEqual([]);
  });

  it("has one access line per call over gRPC, gRPC-Web, Connect and REST, with the request id sent back", () => {
    const transportOf = { grpc: "POST /zitadel.user.v2.UserService/GetUserByID", "grpc-web": "POST /zitadel.user.v2.UserService/GetUserByID", connect: "POST /zitadel.user.v2.UserService/GetUserByID", rest: `GET /v2/users/${flow.userId}` };
    for (const [protocol, http] of Object.entries(transportOf)) {
      const { sent, answered } = flow.requestIds[protocol] ?? { sent: "", answered: null };
      expect(answered, protocol).toBe(sent);
      expect(accessLine(sent), protocol).toEqual({
        time: expect.any(String),
        level: "info",
        message: "call",
        requestId: sent,
        protocol,
        rpc: "zitadel.user.v2.UserService/GetUserByID",
        http,
        code: "ok",
        status: 200,
        durationMs: expect.any(Number),
        callerId: flow.userId,
        userId: flow.userId,
        clientAddress: expect.stringMatching(/127\.0\.0\.1$/),
      });
    }
  });

  // So that a delivery's line (which names the user a message is for) can be traced to the calls that made it.
  it("names the user a call is about, or the one it created, and the delivery lines name the same user", () => {
    const created = lines.find((line) => line.message === "call" && line.http === "POST /v2/users/human" && line.status === 200);
    expect(created).toMatchObject({ rpc: "zitadel.user.v2.UserService/AddHumanUser", userId: flow.userId });
    const setPhone = lines.find((line) => line.message === "call" && line.http === `POST /v2/users/${flow.userId}/phone`);
    expect(setPhone).toMatchObject({ rpc: "zitadel.user.v2.UserService/SetPhone", userId: flow.userId, callerId: flow.userId });
    expect(lines.filter((line) => line.message === "message delivered" && line.userId === flow.userId).length).toBeGreaterThan(0);
  });

  it("has the access line of a Kii call, with the app as its caller, and of a login", () => {
    expect(flow.requestIds.kii?.answered).toBe("logging-kii");
    expect(accessLine("logging-kii")).toMatchObject({ protocol: "kii", rpc: "Kii/VerifyPhone", status: 200, callerId: `app:${flow.appId}` });
    expect(accessLine("logging-kii")).not.toHaveProperty("code");
    expect(flow.requestIds.token?.answered).toBe("logging-token");
    const login = accessLine("logging-token");
    expect(login).toMatchObject({ protocol: "rest", http: "POST /oauth2/token", status: 200 });
    expect(login).not.toHaveProperty("callerId");
  });

  it("names refusals by their gRPC code and HTTP status", () => {
    const wrongCode = lines.find((line) => line.message === "call" && line.http === `POST /v2/users/${flow.userId}/phone/verify` && line.status === 400);
    expect(wrongCode).toMatchObject({ protocol: "rest", rpc: "zitadel.user.v2.UserService/VerifyPhone", code: "invalid_argument" });
    const refusedLogin = lines.find((line) => line.message === "call" && line.http === "POST /oauth2/token" && line.status === 400);
    expect(refusedLogin).toBeDefined();
  });

  it("logs security events: refusals as warnings with the number masked, logins as information", () => {
    const failed = lines.find((line) => line.message === "security event" && line.kind === "login.failed");
    expect(failed).toMatchObject({ level: "warn", detail: { loginName: expect.stringMatching(/^\+\*{6}\d\d$/), reason: "PASSWORD_INVALID" } });
    expect(lines.find((line) => line.message === "security event" && line.kind === "code.failed")).toMatchObject({ level: "warn" });
    const succeeded = lines.find((line) => line.message === "security event" && line.kind === "login.succeeded");
    expect(succeeded).toMatchObject({ level: "info", userId: flow.userId, requestId: "logging-token" });
  });

  it("names in each security event the request id of the call it happened in", () => {
    // The instance's bootstrap at the first start is no call.
    const events = lines.filter((line) => line.message === "security event" && (line.detail as { origin?: string }).origin !== "bootstrap");
    const callIds = new Set(lines.filter((line) => line.message === "call").map((line) => line.requestId));
    expect(events.length).toBeGreaterThan(2);
    for (const event of events) expect(callIds, JSON.stringify(event)).toContain(event.requestId);
  });

  it("leaves probes and scrapes out", () => {
    expect(lines.filter((line) => line.http === "GET /healthz" || line.http === "GET /metrics")).toEqual([]);
  });

  it("holds no token, key, password, code, secret, full phone number or address of the flow", () => {
    expectNoSecrets(stderr, flow);
  });
});

describe("the log at debug", () => {
  let flow: Flow;
  let stderr: string[];
  let lines: LogLine[];

  beforeAll(async () => {
    ({ flow, stderr, lines } = await flowLogged("debug"));
  });

  it("adds each request's headers without their secrets, delivery attempts, probes and scrapes", () => {
    const request = lines.find((line) => line.message === "request" && line.requestId === "logging-rest");
    expect(request).toMatchObject({ level: "debug", http: `GET /v2/users/${flow.userId}`, headers: { authorization: "[redacted]", "x-request-id": "logging-rest" } });
    expect(lines.find((line) => line.message === "delivery attempt")).toMatchObject({
      level: "debug",
      channel: "phone",
      destination: expect.stringMatching(/^\+\*{6}\d\d$/),
    });
    for (const http of ["GET /healthz", "GET /metrics"]) {
      expect(lines.find((line) => line.message === "call" && line.http === http)).toMatchObject({ level: "debug", status: 200 });
    }
  });

  it("holds no token, key, password, code, secret, full phone number or address of the flow either", () => {
    expectNoSecrets(stderr, flow);
  });
});

describe("the request line", () => {
  it("is the path without its query string, decoded, so that the redaction masks a number it carries", async () => {
    const server = await startLoggedServer("info");
    const paths = ["/v2/users/1?details=full", "/v2/users/PHONE:%2B41791234567", "/v2/users/%E0%A4%A?x=%2B41791234567"];
    for (const path of paths) {
      const response = await fetch(`${server.url}${path}`, { headers: { "x-request-id": `path-${paths.indexOf(path)}` } });
      expect(response.status).toBe(401);
    }
    await server.stop();
    const lines = server.stderr.map((text) => JSON.parse(text) as LogLine);
    const httpOf = (requestId: string) => lines.find((line) => line.message === "call" && line.requestId === requestId)?.http;
    expect(httpOf("path-0")).toBe("GET /v2/users/1");
    expect(httpOf("path-1")).toMatch(/^GET \/v2\/users\/PHONE:\+\*+67$/);
    // Not valid percent-encoding: logged as it came, and still without the query string.
    expect(httpOf("path-2")).toBe("GET /v2/users/%E0%A4%A");
  });
});

describe("a number in other digits", () => {
  it("is masked in the security event and the request line, as the server reads it as the number", async () => {
    const server = await startLoggedServer("info");
    const phone = uniqueMobile();
    const added = await rest(server.url, server.adminToken, "POST", "/v2/users/human", {
      profile: { givenName: "Ada", familyName: "Lovelace" },
      phone: { phone, isVerified: true },
      password: { password },
    });
    expect(added.status).toBe(200);
    const inDigits = (zero: number) => phone.replace(/[0-9]/g, (digit) => String.fromCharCode(zero + Number(digit)));
    const fullwidth = `＋${inDigits(0xff10).slice(1)}`;
    const arabicIndic = inDigits(0x660);
    for (const username of [fullwidth, arabicIndic]) {
      const login = await fetch(`${server.url}/oauth2/token`, {
        method: "POST",
        body: new URLSearchParams({ grant_type: "password", username, password: wrongPassword }),
      });
      expect(login.status).toBe(400);
      expect((await fetch(`${server.url}/v2/users/PHONE:${encodeURIComponent(username)}`)).status).toBe(401);
    }
    await server.stop();
    const log = server.stderr.join("\n");
    for (const spelled of [fullwidth, arabicIndic]) {
      const masked = `+******${[...spelled].slice(-2).join("")}`;
      expect(log.match(new RegExp(masked.replace(/[+*]/g, "\\$&"), "g"))?.length, masked).toBeGreaterThanOrEqual(2);
      expect(log).not.toContain([...spelled].slice(1, 8).join(""));
    }
  });
});

describe("request ids", () => {
  it("replaces one that is too long, not printable or masked in the logs with a fresh one, on calls refused without a token too", async () => {
    const server = await startLoggedServer("info");
    const answered: (string | null)[] = [];
    // The last would be logged masked, and no longer match the client's (noted by a data-protection trial).
    for (const given of ["x".repeat(129), "tab\there", "leak-zelda.q@example.org-+41791119999"]) {
      const response = await fetch(`${server.url}/v2/users/1`, { headers: { "x-request-id": given } });
      expect(response.status).toBe(401);
      answered.push(response.headers.get("x-request-id"));
    }
    await server.stop();
    const lines = server.stderr.map((text) => JSON.parse(text) as LogLine);
    for (const requestId of answered) {
      expect(requestId).toMatch(/^[0-9a-f-]{36}$/);
      const line = lines.find((entry) => entry.message === "call" && entry.requestId === requestId);
      // Refused from the headers, before the handler: the line still names the RPC the path routes to.
      expect(line).toMatchObject({
        protocol: "rest",
        rpc: "zitadel.user.v2.UserService/GetUserByID",
        http: "GET /v2/users/1",
        code: "unauthenticated",
        status: 401,
      });
      expect(line).not.toHaveProperty("callerId");
    }
  });
});

describe("the start", () => {
  it("warns of a channel without a provider, naming what can deliver that one", async () => {
    const server = await startServerProcess(join(newDataDir(), "verifyd.sqlite"), {
      env: { VERIFYD_KEYS: `1:${keyMaterial}`, VERIFYD_WEBHOOK_SECRET: webhookSecret, VERIFYD_SMS_WEBHOOK_URL: `${receiverUrl}/sms` },
    });
    const warnings = server.stderr.map((line) => JSON.parse(line) as LogLine).filter((line) => line.message.startsWith("no delivery provider"));
    expect(warnings.map((line) => line.message)).toEqual([
      "no delivery provider for email: codes requested there with send_code are not sent; configure SMTP or --email-webhook-url for email, leave the channel out of --send-channels, or --dev-print-codes in development",
    ]);
    await server.stop();
  });
});
