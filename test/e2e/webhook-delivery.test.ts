// Delivery by signed webhook, against a real HTTP receiver in the test: what the "done when" asks (a code
// asked for with send_code arrives as a signed request that the Standard Webhooks library verifies, and the code in
// it verifies), and how the receiver's answers are treated: retries keep the webhook-id, a 400 is final, and a
// message whose attempts run out is dead until an operator retries it; each outcome is an event on the user's stream.
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { WebhookVerificationError } from "standardwebhooks";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { WebhookPayload } from "../../src/delivery/webhook/webhook-payload.js";
import { openDatabase } from "../../src/store/sqlite/open-database.js";
import { SqliteOutboxStore } from "../../src/store/sqlite/sqlite-outbox-store.js";
import { type EventReader, openEventReader } from "../helpers/events.js";
import { api, uniqueMobile } from "../helpers/api-session.js";
import { protocolClient } from "../helpers/protocol-clients.js";
import { type TestServer, startTestServer } from "../helpers/test-server.js";
import { type ReceivedRequest, type WebhookReceiver, startWebhookReceiver } from "../helpers/webhook-receiver.js";
import { openLiveDatabase } from "../helpers/live-database.js";

const deliveryTimeoutMs = 500;
// A full collection on demand, as V8 runs one by itself under load: what only weak references keep goes.
setFlagsFromString("--expose-gc");
const collectGarbage = runInNewContext("gc") as () => void;
const deliveryAttempts = 3;
const profile = { givenName: "Ada", familyName: "Lovelace" };

let receiver: WebhookReceiver;
let server: TestServer;
let reader: EventReader;

beforeAll(async () => {
  receiver = await startWebhookReceiver();
  server = await startTestServer(
    [
      "--sms-webhook-url", `${receiver.url}/sms?token=receiver-own`,
      "--email-webhook-url", `${receiver.url}/email`,
      "--webhook-secret", receiver.secret,
      "--delivery-timeout", `${deliveryTimeoutMs}ms`,
      "--delivery-attempts", String(deliveryAttempts),
    ],
    { configuredDelivery: true, deliverOnRunOnceOnly: true },
  );
  reader = openEventReader(databasePath());
});

afterAll(async () => {
  reader.close();
  await server.close();
  await receiver.close();
});

beforeEach(() => receiver.reset());

const client = () => protocolClient("rest", server.url, server.adminToken);
const databasePath = () => join(server.dataDir, "verifyd.sqlite");

async function addUserWithPhone(phone: string): Promise<string> {
  const added = await client().call("addHumanUser", { profile, phone: { phone, sendCode: {} } });
  if (!added.ok) throw new Error(added.message);
  return added.body.userId as string;
}

/** Verifies the request as a receiver would, with the library and the secret as documented. */
const verified = (request: ReceivedRequest, withSecret?: string): WebhookPayload => receiver.verify(request, withSecret);

const codeIn = (payload: WebhookPayload): string => /code is (\w+)/.exec(payload.data.text)?.[1] ?? "";

/** Past the worker's back-off after a failure (1 s, doubling), so the next run retries. */
const pastBackOff = () => server.clock.advance(60_000);

function outboxRow(id: string): { status: string; sealed: Buffer | null; attempts: number; lastError: string | null } {
  const db = openLiveDatabase(databasePath(), { readonly: true });
  try {
    const row = db.prepare("SELECT status, sealed, attempts, last_error AS lastError FROM outbox WHERE id = ?").get(id);
    return row as { status: string; sealed: Buffer | null; attempts: number; lastError: string | null };
  } finally {
    db.close();
  }
}

/** What `verifyd outbox retry` does, through the store's own operation on a second handle to the file. */
async function operatorRetries(ids: string[] | "all"): Promise<number> {
  const handle = openDatabase(databasePath());
  try {
    return await new SqliteOutboxStore(handle.db).retryDead(ids, server.clock.now());
  } finally {
    handle.close();
  }
}

async function deadMessages() {
  const handle = openDatabase(databasePath());
  try {
    return await new SqliteOutboxStore(handle.db).listDead(server.clock.now());
  } finally {
    handle.close();
  }
}

/** The first line of /metrics that starts with `start` and holds `part`. */
async function metricsLine(start: string, part = ""): Promise<string | undefined> {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  return text.split("\n").find((line) => line.startsWith(start) && line.includes(part));
}

describe("webhook delivery", () => {
  it("sends a phone code as a signed POST that the Standard Webhooks library verifies, and the code in it verifies", async () => {
    const userId = await addUserWithPhone("+41791230001");
    await server.outbox.runOnce();

    expect(receiver.received).toHaveLength(1);
    const request = receiver.received[0] as ReceivedRequest;
    expect(request.path).toBe("/sms?token=receiver-own");
    expect(request.headers["content-type"]).toBe("application/json");
    const payload = verified(request);
    expect(payload).toMatchObject({ type: "verification.message", data: { channel: "phone", to: "+41791230001" } });
    expect(payload.data.messageId).toBe(request.headers["webhook-id"]);
    expect(payload.data).not.toHaveProperty("subject");
    expect(Math.abs(Number(request.headers["webhook-timestamp"]) - Date.now() / 1000)).toBeLessThan(60);

    // Recorded on the user's stream once the receiver accepted it, under the id the receiver saw.
    expect((await reader.types(userId)).slice(-2)).toEqual(["phone.code.added", "phone.code.sent"]);
    expect((await reader.events(userId)).at(-1)?.payload).toEqual({ messageId: payload.data.messageId });
    const answer = await client().call("verifyPhone", { userId, verificationCode: codeIn(payload) });
    expect(answer.ok).toBe(true);
  });

  it("sends an email code to the email URL, with its subject", async () => {
    const added = await client().call("addHumanUser", { profile, email: { email: "ada@example.com", sendCode: {} } });
    if (!added.ok) throw new Error(added.message);
    await server.outbox.runOnce();

    expect(receiver.received.map((request) => request.path)).toEqual(["/email"]);
    const payload = verified(receiver.received[0] as ReceivedRequest);
    expect(payload.data).toMatchObject({ channel: "email", to: "ada@example.com", subject: "Verify your email address" });
    const answer = await client().call("verifyEmail", { userId: added.body.userId, verificationCode: codeIn(payload) });
    expect(answer.ok).toBe(true);
  });

  it("refuses a request under another secret or with a changed body (negative controls)", async () => {
    await addUserWithPhone("+41791230002");
    await server.outbox.runOnce();
    const request = receiver.received[0] as ReceivedRequest;

    const otherSecret = `whsec_${randomBytes(32).toString("base64")}`;
    expect(() => verified(request, otherSecret)).toThrow(WebhookVerificationError);
    const tampered = { ...request, body: request.body.replace("+41791230002", "+41791239999") };
    expect(() => verified(tampered)).toThrow(WebhookVerificationError);
  });

  it("retries after a 500 with the same webhook-id, freshly signed", async () => {
    receiver.answers.push(500);
    await addUserWithPhone("+41791230003");
    await server.outbox.runOnce();
    expect(receiver.received).toHaveLength(1);

    pastBackOff();
    await server.outbox.runOnce();
    expect(receiver.received).toHaveLength(2);
    const [first, retry] = receiver.received as [ReceivedRequest, ReceivedRequest];
    expect(retry.headers["webhook-id"]).toBe(first.headers["webhook-id"]);
    expect(verified(retry).data.messageId).toBe(first.headers["webhook-id"]);
    expect(outboxRow(String(first.headers["webhook-id"]))).toMatchObject({ status: "delivered", sealed: null, attempts: 2 });

    pastBackOff();
    await server.outbox.runOnce();
    expect(receiver.received).toHaveLength(2);
  });

  it("retries a 429 like a 500", async () => {
    receiver.answers.push(429);
    await addUserWithPhone("+41791230004");
    await server.outbox.runOnce();
    pastBackOff();
    await server.outbox.runOnce();
    expect(receiver.received).toHaveLength(2);
    expect(receiver.received[1]?.headers["webhook-id"]).toBe(receiver.received[0]?.headers["webhook-id"]);
    expect(outboxRow(String(receiver.received[0]?.headers["webhook-id"])).status).toBe("delivered");
  });

  it("waits as long as a 429's or 503's Retry-After asks before the next attempt, rather than its own back-off", async () => {
    receiver.answers.push({ status: 429, retryAfter: "120" }, { status: 503, retryAfter: new Date(server.clock.now().getTime() + 300_000).toUTCString() });
    await addUserWithPhone("+41791230014");
    await server.outbox.runOnce();
    pastBackOff();
    await server.outbox.runOnce();
    expect(receiver.received).toHaveLength(1);
    pastBackOff();
    await server.outbox.runOnce();
    expect(receiver.received).toHaveLength(2);
    // An HTTP date five minutes after the first answer: about three minutes after the second.
    server.clock.advance(120_000);
    await server.outbox.runOnce();
    expect(receiver.received).toHaveLength(2);
    server.clock.advance(120_000);
    await server.outbox.runOnce();
    expect(receiver.received).toHaveLength(3);
    expect(outboxRow(String(receiver.received[0]?.headers["webhook-id"]))).toMatchObject({ status: "delivered", attempts: 3 });
  });

  it("retries a receiver that does not answer within the delivery timeout, with the same webhook-id", async () => {
    receiver.answers.push("hang");
    await addUserWithPhone("+41791230005");
    const started = Date.now();
    await server.outbox.runOnce();
    expect(Date.now() - started).toBeGreaterThanOrEqual(deliveryTimeoutMs - 50);
    expect(receiver.received).toHaveLength(1);
    const id = String(receiver.received[0]?.headers["webhook-id"]);
    expect(outboxRow(id)).toMatchObject({ status: "pending", lastError: `no answer from the webhook provider within ${deliveryTimeoutMs} ms` });

    pastBackOff();
    await server.outbox.runOnce();
    expect(receiver.received).toHaveLength(2);
    expect(receiver.received[1]?.headers["webhook-id"]).toBe(id);
    expect(outboxRow(id).status).toBe("delivered");
  });

  it("times a hanging receiver out even when a garbage collection runs while it hangs (noted by a new-user trial)", async () => {
    receiver.answers.push("hang");
    await addUserWithPhone("+41791230017");
    const delivery = server.outbox.runOnce();
    await receiver.waitForRequests(1);
    collectGarbage();
    const outcome = await Promise.race([delivery.then(() => "settled"), sleep(deliveryTimeoutMs + 3_000, "still waiting")]);
    expect(outcome).toBe("settled");
    const id = String(receiver.received[0]?.headers["webhook-id"]);
    expect(outboxRow(id)).toMatchObject({ status: "pending", lastError: `no answer from the webhook provider within ${deliveryTimeoutMs} ms` });
    pastBackOff();
    await server.outbox.runOnce();
    expect(outboxRow(id).status).toBe("delivered");
  });

  it("keeps delivering while a receiver holds one message: a slow answer holds up that message only (found by a soak trial)", async () => {
    const slow = await startWebhookReceiver();
    // The worker on its own timer, as in production.
    const delivering = await startTestServer(["--sms-webhook-url", `${slow.url}/sms`, "--webhook-secret", slow.secret], { configuredDelivery: true });
    try {
      const session = api(delivering.url, delivering.adminToken);
      const addPerson = () =>
        session.users.addHumanUser({
          profile: { givenName: "Ada", familyName: "Lovelace" },
          phone: { phone: uniqueMobile(), verification: { case: "sendCode", value: {} } },
        });
      const warnings: Error[] = [];
      const warned = (warning: Error) => void warnings.push(warning);
      process.on("warning", warned);
      // More held deliveries than an AbortSignal takes listeners before Node warns of a leak (10).
      const held = 12;
      slow.answers.push(...Array.from({ length: held }, () => "hang" as const));
      for (let person = 0; person < held; person++) await addPerson();
      await slow.waitForRequests(held);
      for (let person = 0; person < 5; person++) await addPerson();
      // Well within the delivery timeout (30 s), which the held messages wait out.
      await slow.waitForRequests(held + 5, 5_000);
      process.off("warning", warned);
      expect(warnings.map((warning) => warning.name)).not.toContain("MaxListenersExceededWarning");
    } finally {
      await delivering.close();
      await slow.close();
    }
  });

  it("tells the time the code has left when the message goes out, not the lifetime it was made with", async () => {
    receiver.answers.push(400);
    await addUserWithPhone("+41791230016");
    await server.outbox.runOnce();
    expect(verified(receiver.received[0]!).data.text).toContain("It expires in 10 minutes.");

    server.clock.advance(4 * 60_000 + 20_000);
    expect(await operatorRetries("all")).toBe(1);
    await server.outbox.runOnce();
    expect(receiver.received).toHaveLength(2);
    expect(verified(receiver.received[1]!).data.text).toContain("It expires in 5 minutes.");
  });

  it("takes a 400 as final: no retry; the message is dead, with a failure event, until an operator retries it", async () => {
    receiver.answers.push(400);
    const userId = await addUserWithPhone("+41791230006");
    await server.outbox.runOnce();
    expect(receiver.received).toHaveLength(1);
    const id = String(receiver.received[0]?.headers["webhook-id"]);

    pastBackOff();
    await server.outbox.runOnce();
    expect(receiver.received).toHaveLength(1);
    expect(outboxRow(id)).toMatchObject({ status: "dead", attempts: 1 });
    expect(outboxRow(id).sealed).not.toBeNull();
    expect((await reader.events(userId)).at(-1)).toMatchObject({
      type: "user.human.phone.code.send.failed",
      payload: { messageId: id, reason: expect.stringMatching(/answered 400$/) },
    });

    // The receiver is fixed; the operator sends the message again, which arrives under the same id, and its code works.
    expect(await operatorRetries([id])).toBe(1);
    await server.outbox.runOnce();
    expect(receiver.received).toHaveLength(2);
    expect(receiver.received[1]?.headers["webhook-id"]).toBe(id);
    expect(outboxRow(id)).toMatchObject({ status: "delivered", sealed: null, attempts: 1 });
    expect((await reader.types(userId)).slice(-2)).toEqual(["phone.code.send.failed", "phone.code.sent"]);
    const answer = await client().call("verifyPhone", { userId, verificationCode: codeIn(verified(receiver.received[1] as ReceivedRequest)) });
    expect(answer.ok).toBe(true);
  });

  it("does not follow a redirect: the message is refused for good", async () => {
    receiver.answers.push(307);
    await addUserWithPhone("+41791230007");
    await server.outbox.runOnce();
    pastBackOff();
    await server.outbox.runOnce();
    expect(receiver.received).toHaveLength(1);
    expect(outboxRow(String(receiver.received[0]?.headers["webhook-id"])).status).toBe("dead");
    expect(await operatorRetries("all")).toBe(1);
    await server.outbox.runOnce();
    expect(receiver.received).toHaveLength(2);
  });

  it(`after ${deliveryAttempts} failed attempts (500s, a timeout) the message is dead, listed and counted, until an operator retries it`, async () => {
    receiver.answers.push(500, "hang", 503);
    const userId = await addUserWithPhone("+41791230009");
    for (let attempt = 1; attempt <= deliveryAttempts; attempt++) {
      await server.outbox.runOnce();
      pastBackOff();
    }
    await server.outbox.runOnce();
    expect(receiver.received).toHaveLength(deliveryAttempts);
    expect(receiver.webhookIds()).toHaveLength(1);
    const [id] = receiver.webhookIds() as [string];
    expect(outboxRow(id)).toMatchObject({ status: "dead", attempts: deliveryAttempts });

    const failed = (await reader.events(userId)).filter((event) => event.type === "user.human.phone.code.send.failed");
    expect(failed).toEqual([expect.objectContaining({ payload: { messageId: id, reason: expect.stringMatching(/answered 503$/) } })]);
    expect(await deadMessages()).toEqual([
      expect.objectContaining({ id, userId, channel: "phone", attempts: deliveryAttempts, lastError: expect.stringMatching(/answered 503$/) }),
    ]);
    expect(await metricsLine("verifyd_outbox_dead_messages ")).toBe("verifyd_outbox_dead_messages 1");
    expect(await metricsLine("verifyd_deliveries_total{", 'outcome="dead"')).toMatch(/ [1-9]\d*$/);

    expect(await operatorRetries("all")).toBe(1);
    await server.outbox.runOnce();
    expect(receiver.received).toHaveLength(deliveryAttempts + 1);
    expect(receiver.webhookIds()).toEqual([id]);
    expect(verified(receiver.received.at(-1) as ReceivedRequest).data.messageId).toBe(id);
    expect(outboxRow(id).status).toBe("delivered");
    expect(await metricsLine("verifyd_outbox_dead_messages ")).toBe("verifyd_outbox_dead_messages 0");
  });

  it("wipes a dead message when its code expires: no retry can send it then", async () => {
    receiver.answers.push(400);
    await addUserWithPhone("+41791230010");
    await server.outbox.runOnce();
    const id = String(receiver.received[0]?.headers["webhook-id"]);
    expect(outboxRow(id).status).toBe("dead");

    server.clock.advance(server.config.code.ttlMs);
    expect(await operatorRetries([id])).toBe(0);
    await server.outbox.runOnce();
    expect(outboxRow(id)).toMatchObject({ status: "expired", sealed: null });
    expect(receiver.received).toHaveLength(1);
  });

  it("gives two consecutive messages different webhook-ids", async () => {
    const userId = await addUserWithPhone("+41791230008");
    await server.outbox.runOnce();
    server.clock.advance(server.config.verificationLimits.sendCooldownMs);
    const resent = await client().call("resendPhoneCode", { userId, sendCode: {} });
    expect(resent.ok).toBe(true);
    await server.outbox.runOnce();

    expect(receiver.received).toHaveLength(2);
    const [first, second] = receiver.received.map((request) => verified(request)) as [WebhookPayload, WebhookPayload];
    expect(second.data.messageId).not.toBe(first.data.messageId);
    expect(codeIn(second)).not.toBe(codeIn(first));
  });
});
