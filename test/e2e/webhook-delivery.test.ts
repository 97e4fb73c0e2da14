// Delivery by signed webhook, against a real HTTP receiver in the test: what the "done when" asks (a code
// asked for with send_code arrives as a signed request that the Standard Webhooks library verifies, and the code in
// it verifies), and how the receiver's answers are treated: retries keep the webhook-id, a 400 is final.
import { randomBytes } from "node:crypto";
import { type IncomingHttpHeaders, type Server, type ServerResponse, createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import Database from "better-sqlite3";
import { Webhook, WebhookVerificationError } from "standardwebhooks";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { WebhookPayload } from "../../src/delivery/webhook/webhook-payload.js";
import { protocolClient } from "../helpers/protocol-clients.js";
import { type TestServer, startTestServer } from "../helpers/test-server.js";

interface ReceivedRequest {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** What the receiver does with one request: answer with a status, or never answer. */
type Answer = number | "hang";

const secret = `whsec_${randomBytes(32).toString("base64")}`;
const deliveryTimeoutMs = 500;
const profile = { givenName: "Ada", familyName: "Lovelace" };

let receiver: Server;
let receiverUrl: string;
const received: ReceivedRequest[] = [];
/** Answers for the next requests, in order; once used up, every request gets 204. */
const answers: Answer[] = [];
const hung: ServerResponse[] = [];
let server: TestServer;

beforeAll(async () => {
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      received.push({ path: req.url ?? "", headers: req.headers, body: Buffer.concat(chunks).toString("utf8") });
      const answer = answers.shift() ?? 204;
      if (answer === "hang") hung.push(res);
      else res.writeHead(answer).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
  server = await startTestServer(
    [
      "--sms-webhook-url", `${receiverUrl}/sms?token=receiver-own`,
      "--email-webhook-url", `${receiverUrl}/email`,
      "--webhook-secret", secret,
      "--delivery-timeout", `${deliveryTimeoutMs}ms`,
    ],
    { configuredDelivery: true },
  );
});

afterAll(async () => {
  await server.close();
  for (const res of hung) res.destroy();
  receiver.closeAllConnections();
  await new Promise((resolve) => receiver.close(resolve));
});

beforeEach(() => {
  received.length = 0;
  answers.length = 0;
});

const client = () => protocolClient("rest", server.url, server.adminToken);

async function addUserWithPhone(phone: string): Promise<string> {
  const added = await client().call("addHumanUser", { profile, phone: { phone, sendCode: {} } });
  if (!added.ok) throw new Error(added.message);
  return added.body.userId as string;
}

/** Verifies the request as a receiver would, with the library and the secret as documented. */
function verified(request: ReceivedRequest, withSecret = secret): WebhookPayload {
  return new Webhook(withSecret).verify(request.body, request.headers as Record<string, string>) as WebhookPayload;
}

const codeIn = (payload: WebhookPayload): string => /code is (\w+)/.exec(payload.data.text)?.[1] ?? "";

/** Past the worker's back-off after a failure (1 s, doubling), so the next run retries. */
const pastBackOff = () => server.clock.advance(60_000);

function outboxRow(id: string): { status: string; sealed: Buffer | null; attempts: number } {
  const db = new Database(join(server.dataDir, "verifyd.sqlite"), { readonly: true });
  try {
    return db.prepare("SELECT status, sealed, attempts FROM outbox WHERE id = ?").get(id) as { status: string; sealed: Buffer | null; attempts: number };
  } finally {
    db.close();
  }
}

describe("webhook delivery", () => {
  it("sends a phone code as a signed POST that the Standard Webhooks library verifies, and the code in it verifies", async () => {
    const userId = await addUserWithPhone("+41791230001");
    await server.outbox.runOnce();

    expect(received).toHaveLength(1);
    const request = received[0] as ReceivedRequest;
    expect(request.path).toBe("/sms?token=receiver-own");
    expect(request.headers["content-type"]).toBe("application/json");
    const payload = verified(request);
    expect(payload).toMatchObject({ type: "verification.message", data: { channel: "phone", to: "+41791230001" } });
    expect(payload.data.messageId).toBe(request.headers["webhook-id"]);
    expect(payload.data).not.toHaveProperty("subject");
    expect(Math.abs(Number(request.headers["webhook-timestamp"]) - Date.now() / 1000)).toBeLessThan(60);

    const answer = await client().call("verifyPhone", { userId, verificationCode: codeIn(payload) });
    expect(answer.ok).toBe(true);
  });

  it("sends an email code to the email URL, with its subject", async () => {
    const added = await client().call("addHumanUser", { profile, email: { email: "ada@example.com", sendCode: {} } });
    if (!added.ok) throw new Error(added.message);
    await server.outbox.runOnce();

    expect(received.map((request) => request.path)).toEqual(["/email"]);
    const payload = verified(received[0] as ReceivedRequest);
    expect(payload.data).toMatchObject({ channel: "email", to: "ada@example.com", subject: "Verify your email address" });
    const answer = await client().call("verifyEmail", { userId: added.body.userId, verificationCode: codeIn(payload) });
    expect(answer.ok).toBe(true);
  });

  it("refuses a request under another secret or with a changed body (negative controls)", async () => {
    await addUserWithPhone("+41791230002");
    await server.outbox.runOnce();
    const request = received[0] as ReceivedRequest;

    const otherSecret = `whsec_${randomBytes(32).toString("base64")}`;
    expect(() => verified(request, otherSecret)).toThrow(WebhookVerificationError);
    const tampered = { ...request, body: request.body.replace("+41791230002", "+41791239999") };
    expect(() => verified(tampered)).toThrow(WebhookVerificationError);
  });

  it("retries after a 500 with the same webhook-id, freshly signed", async () => {
    answers.push(500);
    await addUserWithPhone("+41791230003");
    await server.outbox.runOnce();
    expect(received).toHaveLength(1);

    pastBackOff();
    await server.outbox.runOnce();
    expect(received).toHaveLength(2);
    const [first, retry] = received as [ReceivedRequest, ReceivedRequest];
    expect(retry.headers["webhook-id"]).toBe(first.headers["webhook-id"]);
    expect(verified(retry).data.messageId).toBe(first.headers["webhook-id"]);
    expect(outboxRow(String(first.headers["webhook-id"]))).toMatchObject({ status: "delivered", sealed: null, attempts: 2 });

    pastBackOff();
    await server.outbox.runOnce();
    expect(received).toHaveLength(2);
  });

  it("retries a 429 like a 500", async () => {
    answers.push(429);
    await addUserWithPhone("+41791230004");
    await server.outbox.runOnce();
    pastBackOff();
    await server.outbox.runOnce();
    expect(received).toHaveLength(2);
    expect(received[1]?.headers["webhook-id"]).toBe(received[0]?.headers["webhook-id"]);
    expect(outboxRow(String(received[0]?.headers["webhook-id"])).status).toBe("delivered");
  });

  it("retries a receiver that does not answer within the delivery timeout, with the same webhook-id", async () => {
    answers.push("hang");
    await addUserWithPhone("+41791230005");
    const started = Date.now();
    await server.outbox.runOnce();
    expect(Date.now() - started).toBeGreaterThanOrEqual(deliveryTimeoutMs - 50);
    expect(received).toHaveLength(1);
    const id = String(received[0]?.headers["webhook-id"]);
    expect(outboxRow(id).status).toBe("pending");

    pastBackOff();
    await server.outbox.runOnce();
    expect(received).toHaveLength(2);
    expect(received[1]?.headers["webhook-id"]).toBe(id);
    expect(outboxRow(id).status).toBe("delivered");
  });

  it("takes a 400 as final: no retry, and the message is wiped", async () => {
    answers.push(400);
    await addUserWithPhone("+41791230006");
    await server.outbox.runOnce();
    expect(received).toHaveLength(1);

    pastBackOff();
    await server.outbox.runOnce();
    expect(received).toHaveLength(1);
    expect(outboxRow(String(received[0]?.headers["webhook-id"]))).toMatchObject({ status: "expired", sealed: null, attempts: 1 });
  });

  it("does not follow a redirect: the message is refused for good", async () => {
    answers.push(307);
    await addUserWithPhone("+41791230007");
    await server.outbox.runOnce();
    pastBackOff();
    await server.outbox.runOnce();
    expect(received).toHaveLength(1);
    expect(outboxRow(String(received[0]?.headers["webhook-id"])).status).toBe("expired");
  });

  it("gives two consecutive messages different webhook-ids", async () => {
    const userId = await addUserWithPhone("+41791230008");
    await server.outbox.runOnce();
    server.clock.advance(server.config.verificationLimits.sendCooldownMs);
    const resent = await client().call("resendPhoneCode", { userId, sendCode: {} });
    expect(resent.ok).toBe(true);
    await server.outbox.runOnce();

    expect(received).toHaveLength(2);
    const [first, second] = received.map((request) => verified(request)) as [WebhookPayload, WebhookPayload];
    expect(second.data.messageId).not.toBe(first.data.messageId);
    expect(codeIn(second)).not.toBe(codeIn(first));
  });
});
