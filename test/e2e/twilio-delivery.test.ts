// SMS through Twilio's Messages API, against a local HTTP server standing in for Twilio (VERIFYD_TWILIO_BASE_URL),
// which records what verifyd sends and answers as Twilio does: a code asked for with send_code arrives as Twilio's
// form-encoded request, authenticated with the account's SID and token, with the outbox message id as the
// idempotency token, and the code in it verifies; 429s and 500s are retried under the same token; a number Twilio
// refuses, or refused credentials, reach Twilio once and never again.
import { type IncomingHttpHeaders, type ServerResponse, createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { protocolClient } from "../helpers/protocol-clients.js";
import { type TestServer, startTestServer } from "../helpers/test-server.js";
import { openLiveDatabase } from "../helpers/live-database.js";

interface TwilioRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  form: URLSearchParams;
}

/** An answer as Twilio gives it: a status and a JSON body; or none at all; or a refusal whose body never ends. */
type TwilioAnswer = { status: number; body: object; retryAfter?: string } | "hang" | "endless refusal";

interface FakeTwilio {
  url: string;
  received: TwilioRequest[];
  /** Answers for the next requests, in order; once used up, Twilio's 201 with the created message. */
  answers: TwilioAnswer[];
  close(): Promise<void>;
}

const accountSid = "AC0123456789abcdef0123456789abcdef";
const authToken = "f00dfeedcafebabe0123456789abcdef";
const messagingServiceSid = "MG00112233445566778899aabbccddeeff";
const sender = "+15005550006";
const profile = { givenName: "Ada", familyName: "Lovelace" };
const messagesPath = `/2010-04-01/Accounts/${accountSid}/Messages.json`;

/** Twilio's error body, as its API answers a refused request. */
const twilioError = (status: number, code: number, message: string) => ({
  status,
  body: { code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status },
});

async function startFakeTwilio(): Promise<FakeTwilio> {
  const received: TwilioRequest[] = [];
  const answers: TwilioAnswer[] = [];
  const held: ServerResponse[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const form = new URLSearchParams(Buffer.concat(chunks).toString("utf8"));
      received.push({ method: req.method ?? "", path: req.url ?? "", headers: req.headers, form });
      const answer = answers.shift() ?? { status: 201, body: { sid: `SM${"0".repeat(32)}`, status: "queued", to: form.get("To") } };
      if (answer === "hang") {
        held.push(res);
        return;
      }
      if (answer === "endless refusal") {
        held.push(res);
        res.writeHead(400, { "content-type": "application/json" });
        const more = () => res.write(" ".repeat(64 * 1024), () => !res.destroyed && setImmediate(more));
        res.write('{"code":21211,"message":"', more);
        return;
      }
      const retryAfter = answer.retryAfter === undefined ? {} : { "retry-after": answer.retryAfter };
      res.writeHead(answer.status, { "content-type": "application/json", ...retryAfter }).end(JSON.stringify(answer.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    received,
    answers,
    async close() {
      for (const res of held) res.destroy();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** A server delivering SMS through the fake Twilio, configured through the environment as the README shows. */
function startServerWithTwilio(twilio: FakeTwilio, senderSetting: NodeJS.ProcessEnv): Promise<TestServer> {
  return startTestServer(["--delivery-timeout", "500ms"], {
    configuredDelivery: true,
    env: { TWILIO_ACCOUNT_SID: accountSid, TWILIO_AUTH_TOKEN: authToken, VERIFYD_TWILIO_BASE_URL: twilio.url, ...senderSetting },
  });
}

async function addUserWithPhone(server: TestServer, phone: string): Promise<string> {
  const added = await protocolClient("rest", server.url, server.adminToken).call("addHumanUser", { profile, phone: { phone, sendCode: {} } });
  if (!added.ok) throw new Error(added.message);
  return added.body.userId as string;
}

/** The ids of the user's messages in the outbox: what the idempotency token must be. */
function outboxIds(server: TestServer, userId: string): string[] {
  const db = openLiveDatabase(join(server.dataDir, "verifyd.sqlite"), { readonly: true });
  try {
    return (db.prepare("SELECT id FROM outbox WHERE user_id = ?").all(userId) as { id: string }[]).map((row) => row.id);
  } finally {
    db.close();
  }
}

const codeIn = (request: TwilioRequest): string => /code is (\w+)/.exec(request.form.get("Body") ?? "")?.[1] ?? "";
const tokenOf = (request: TwilioRequest | undefined) => request?.headers["i-twilio-idempotency-token"];

describe("Twilio delivery", () => {
  let twilio: FakeTwilio;
  let server: TestServer;

  beforeAll(async () => {
    twilio = await startFakeTwilio();
    server = await startServerWithTwilio(twilio, { TWILIO_FROM: sender });
  });

  afterAll(async () => {
    await server.close();
    await twilio.close();
  });

  beforeEach(() => {
    twilio.received.length = 0;
    twilio.answers.length = 0;
  });

  /** Past the worker's back-off after a failure (1 s, doubling), so that its next run retries. */
  const pastBackOff = () => server.clock.advance(60_000);

  it("sends a phone code as Twilio's Messages API takes it, and the code in it verifies", async () => {
    const userId = await addUserWithPhone(server, "+41791230101");
    await server.outbox.runOnce();

    expect(twilio.received).toHaveLength(1);
    const request = twilio.received[0] as TwilioRequest;
    expect(request).toMatchObject({ method: "POST", path: messagesPath });
    expect(request.headers["content-type"]).toBe("application/x-www-form-urlencoded");
    expect(request.headers.authorization).toBe(`Basic ${Buffer.from(`${accountSid}:${authToken}`).toString("base64")}`);
    expect(Object.fromEntries(request.form)).toEqual({ To: "+41791230101", From: sender, Body: expect.stringContaining(codeIn(request)) });
    expect(tokenOf(request)).toBe(outboxIds(server, userId)[0]);

    const answer = await protocolClient("rest", server.url, server.adminToken).call("verifyPhone", { userId, verificationCode: codeIn(request) });
    expect(answer.ok).toBe(true);
  });

  it("retries a 429 and a 500 with the same idempotency token, then stops once Twilio took the message", async () => {
    twilio.answers.push(twilioError(429, 20429, "Too Many Requests"), twilioError(500, 20500, "Internal Server Error"));
    const userId = await addUserWithPhone(server, "+41791230102");
    await server.outbox.runOnce();
    pastBackOff();
    await server.outbox.runOnce();
    pastBackOff();
    await server.outbox.runOnce();

    expect(twilio.received).toHaveLength(3);
    expect(new Set(twilio.received.map(tokenOf))).toEqual(new Set(outboxIds(server, userId)));
    pastBackOff();
    await server.outbox.runOnce();
    expect(twilio.received).toHaveLength(3);
  });

  it("waits as long as a 429's Retry-After asks before trying again", async () => {
    twilio.answers.push({ ...twilioError(429, 20429, "Too Many Requests"), retryAfter: "90" });
    await addUserWithPhone(server, "+41791230112");
    await server.outbox.runOnce();
    pastBackOff();
    await server.outbox.runOnce();
    expect(twilio.received).toHaveLength(1);
    pastBackOff();
    await server.outbox.runOnce();
    expect(twilio.received).toHaveLength(2);
  });

  it("retries a Twilio that does not answer within the delivery timeout, with the same token", async () => {
    twilio.answers.push("hang");
    await addUserWithPhone(server, "+41791230103");
    await server.outbox.runOnce();
    pastBackOff();
    await server.outbox.runOnce();

    expect(twilio.received).toHaveLength(2);
    expect(tokenOf(twilio.received[1])).toBe(tokenOf(twilio.received[0]));
  });

  it("takes a number Twilio refuses (21211) as final: no further attempt reaches Twilio", async () => {
    twilio.answers.push(twilioError(400, 21211, "The 'To' number +41791230104 is not a valid phone number."));
    await addUserWithPhone(server, "+41791230104");
    await server.outbox.runOnce();
    pastBackOff();
    await server.outbox.runOnce();
    pastBackOff();
    await server.outbox.runOnce();

    expect(twilio.received).toHaveLength(1);
  });

  // A white-box review: the whole answer was read, so one without end took the delivery timeout (and memory), and the
  // refusal was retried as a timeout instead of being final.
  it("reads only the start of a refusal's body: one without end is still a refusal, final", async () => {
    twilio.answers.push("endless refusal");
    const userId = await addUserWithPhone(server, "+41791230106");
    await server.outbox.runOnce();
    const db = openLiveDatabase(join(server.dataDir, "verifyd.sqlite"), { readonly: true });
    const row = db.prepare("SELECT status, last_error AS lastError FROM outbox WHERE user_id = ?").get(userId);
    db.close();
    expect(row).toEqual({ status: "dead", lastError: "Twilio refused the message with 400" });
  });

  it("takes refused credentials (401) as final too", async () => {
    twilio.answers.push(twilioError(401, 20003, "Authenticate"));
    await addUserWithPhone(server, "+41791230105");
    await server.outbox.runOnce();
    pastBackOff();
    await server.outbox.runOnce();

    expect(twilio.received).toHaveLength(1);
  });

  it("gives a resent code its own idempotency token", async () => {
    const userId = await addUserWithPhone(server, "+41791230106");
    await server.outbox.runOnce();
    server.clock.advance(server.config.verificationLimits.sendCooldownMs);
    const resent = await protocolClient("rest", server.url, server.adminToken).call("resendPhoneCode", { userId, sendCode: {} });
    expect(resent.ok).toBe(true);
    await server.outbox.runOnce();

    expect(twilio.received).toHaveLength(2);
    expect(tokenOf(twilio.received[1])).not.toBe(tokenOf(twilio.received[0]));
    expect(codeIn(twilio.received[1] as TwilioRequest)).not.toBe(codeIn(twilio.received[0] as TwilioRequest));
  });
});

describe("Twilio delivery through a Messaging Service", () => {
  it("names the service instead of a sender number", async () => {
    const twilio = await startFakeTwilio();
    const server = await startServerWithTwilio(twilio, { TWILIO_MESSAGING_SERVICE_SID: messagingServiceSid });
    try {
      await addUserWithPhone(server, "+41791230107");
      await server.outbox.runOnce();
      expect(twilio.received).toHaveLength(1);
      const form = Object.fromEntries((twilio.received[0] as TwilioRequest).form);
      expect(form).toMatchObject({ To: "+41791230107", MessagingServiceSid: messagingServiceSid });
      expect(form).not.toHaveProperty("From");
    } finally {
      await server.close();
      await twilio.close();
    }
  });
});
