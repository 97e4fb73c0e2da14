// The outbox's promises with real server processes and a real receiver that verifies each request with the Standard
// Webhooks library: two servers on one database file send each of many messages once and record each once; a
// `kill -9` between the commit of a code and its delivery loses nothing, and the message is recorded as sent once
// (the receiver may see a retry, always under the same webhook-id, its idempotency key).
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { uniqueMobile } from "../helpers/api-session.js";
import { openEventReader } from "../helpers/events.js";
import { type ProtocolClient, expectOk, protocolClient } from "../helpers/protocol-clients.js";
import { type ServerProcess, serverProcessDirectories, startServerProcess } from "../helpers/server-process.js";
import { type WebhookReceiver, startWebhookReceiver } from "../helpers/webhook-receiver.js";
import { openLiveDatabase } from "../helpers/live-database.js";

const tempDirectory = serverProcessDirectories("verifyd-outbox-");
const profile = { givenName: "Ada", familyName: "Lovelace" };
/** For a server that is killed: short, so that its lease (this and a margin) runs out soon after the `kill -9`. */
const shortDeliveryTimeoutMs = 1_000;
/** For the others: one no busy test machine reaches, so that every second request of a message is a real retry. */
const longDeliveryTimeoutMs = 30_000;

let receiver: WebhookReceiver;
let database: string;
beforeEach(async () => {
  receiver = await startWebhookReceiver();
  database = join(tempDirectory(), "verifyd.sqlite");
});
afterEach(async () => {
  await receiver.close();
});

function startServer(deliveryTimeoutMs: number): Promise<ServerProcess> {
  return startServerProcess(database, {
    args: ["--sms-webhook-url", `${receiver.url}/sms`, "--delivery-timeout", `${deliveryTimeoutMs}ms`],
    env: { VERIFYD_WEBHOOK_SECRET: receiver.secret },
  });
}

const clientOf = (server: ServerProcess): ProtocolClient => protocolClient("connect-json", server.url, server.adminToken);

async function addUserSendingCode(client: ProtocolClient, phone: string): Promise<string> {
  const added = expectOk(await client.call("addHumanUser", { profile, phone: { phone, sendCode: {} } }));
  return added.userId as string;
}

async function killHard(server: ServerProcess): Promise<void> {
  server.child.kill("SIGKILL");
  expect((await server.exited).signal).toBe("SIGKILL");
}

interface OutboxRow {
  id: string;
  userId: string;
  status: string;
  attempts: number;
}

function outboxRows(): OutboxRow[] {
  const db = openLiveDatabase(database, { readonly: true });
  try {
    return db.prepare("SELECT id, user_id AS userId, status, attempts FROM outbox ORDER BY created_at").all() as OutboxRow[];
  } finally {
    db.close();
  }
}

async function eventually(condition: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const allDelivered = (count: number) => () => {
  const rows = outboxRows();
  return rows.length === count && rows.every((row) => row.status === "delivered");
};

/** The `code.sent` events on the user's stream, by the message id each records. */
async function sentEvents(userId: string): Promise<string[]> {
  const reader = openEventReader(database);
  try {
    const events = await reader.events(userId);
    return events.filter((event) => event.type === "user.human.phone.code.sent").map((event) => (event.payload as { messageId: string }).messageId);
  } finally {
    reader.close();
  }
}

/** The code in the last request the receiver got for this number, read as a receiver reads it. */
function lastCodeFor(phone: string): string {
  const payloads = receiver.received.map((request) => receiver.verify(request)).filter((payload) => payload.data.to === phone);
  return /code is (\w+)/.exec(payloads.at(-1)?.data.text ?? "")?.[1] ?? "";
}

/** Lines in which this server says it delivered a message and recorded that (not one another worker recorded). */
const recordedDeliveries = (server: ServerProcess) =>
  server.stderr.filter((line) => line.includes('"message delivered"') && !line.includes("alreadySettled")).length;

describe("two servers on one database file", () => {
  it("send each of many messages once, and record each once", async () => {
    const servers = await Promise.all([startServer(longDeliveryTimeoutMs), startServer(longDeliveryTimeoutMs)]);
    const clients = servers.map(clientOf);
    const count = 40;
    const phones = Array.from({ length: count }, () => uniqueMobile());
    const userIds = await Promise.all(phones.map((phone, i) => addUserSendingCode(clients[i % 2] as ProtocolClient, phone)));

    await receiver.waitForRequests(count);
    await eventually(allDelivered(count), `all ${count} messages delivered`);
    // Time for a second, duplicate request to show, had two workers claimed one message.
    await new Promise((resolve) => setTimeout(resolve, 1_000));

    expect(receiver.received).toHaveLength(count);
    expect(receiver.webhookIds()).toHaveLength(count);
    const payloads = receiver.received.map((request) => receiver.verify(request));
    expect(new Set(payloads.map((payload) => payload.data.to))).toEqual(new Set(phones));
    expect(outboxRows().every((row) => row.attempts === 1)).toBe(true);
    for (const [i, userId] of userIds.entries()) {
      const messageId = payloads.find((payload) => payload.data.to === phones[i])?.data.messageId;
      expect(await sentEvents(userId)).toEqual([messageId]);
    }
    await Promise.all(servers.map((server) => server.stop()));
    expect(servers.map(recordedDeliveries).reduce((sum, each) => sum + each, 0)).toBe(count);
  }, 120_000);
});

describe("kill -9 between the commit of a code and its delivery", () => {
  it("while the receiver holds the request: the restarted server sends it again under the same id, and records it once", async () => {
    receiver.answers.push("hang");
    const first = await startServer(shortDeliveryTimeoutMs);
    const phone = uniqueMobile();
    const userId = await addUserSendingCode(clientOf(first), phone);
    await receiver.waitForRequests(1);
    await killHard(first);

    // The dead worker's lease runs out (its delivery timeout and a margin); the new process claims the message then.
    const second = await startServer(longDeliveryTimeoutMs);
    await receiver.waitForRequests(2);
    await eventually(allDelivered(1), "the message delivered");

    const [held, retried] = receiver.received;
    expect(retried?.headers["webhook-id"]).toBe(held?.headers["webhook-id"]);
    expect(receiver.webhookIds()).toHaveLength(1);
    expect(outboxRows()).toEqual([expect.objectContaining({ status: "delivered", attempts: 2 })]);
    expect(await sentEvents(userId)).toEqual(receiver.webhookIds());
    expectOk(await clientOf(second).call("verifyPhone", { userId, verificationCode: lastCodeFor(phone) }));
  }, 60_000);

  it("right after send_code answered: the restarted server delivers the message, and records it once", async () => {
    const first = await startServer(shortDeliveryTimeoutMs);
    const phone = uniqueMobile();
    const userId = await addUserSendingCode(clientOf(first), phone);
    await killHard(first);

    const second = await startServer(longDeliveryTimeoutMs);
    await eventually(allDelivered(1), "the message delivered");

    // Whether the first process had sent it before it died or not, there is one message, recorded once.
    expect(receiver.webhookIds()).toHaveLength(1);
    expect(receiver.received.length).toBeLessThanOrEqual(2);
    expect(await sentEvents(userId)).toEqual(receiver.webhookIds());
    expectOk(await clientOf(second).call("verifyPhone", { userId, verificationCode: lastCodeFor(phone) }));
  }, 60_000);
});

describe("SIGTERM while a delivery is under way", () => {
  // A delivery's lease follows its timeout: 5 s, so that the next server may send a message cut short soon after.
  const startWithGrace = (grace: string) =>
    startServerProcess(database, {
      args: ["--sms-webhook-url", `${receiver.url}/sms`, "--delivery-timeout", "5s", "--shutdown-grace", grace],
      env: { VERIFYD_WEBHOOK_SECRET: receiver.secret },
    });
  const linesAfterStop = (server: ServerProcess) => server.stderr.slice(server.stderr.findIndex((line) => line.includes("verifyd stopped")) + 1);

  it("waits for its answer within the grace period and records it: no second send", async () => {
    receiver.answers.push({ afterMs: 1_500 });
    const first = await startWithGrace("10s");
    const phone = uniqueMobile();
    const userId = await addUserSendingCode(clientOf(first), phone);
    await receiver.waitForRequests(1);

    first.child.kill("SIGTERM");
    expect(await first.exited).toEqual({ code: 0, signal: null });
    expect(outboxRows()).toEqual([expect.objectContaining({ status: "delivered", attempts: 1 })]);
    expect(linesAfterStop(first)).toEqual([]);

    const second = await startWithGrace("10s");
    expectOk(await clientOf(second).call("verifyPhone", { userId, verificationCode: lastCodeFor(phone) }));
    expect(receiver.received).toHaveLength(1);
    expect(await sentEvents(userId)).toEqual(receiver.webhookIds());
    await second.stop();
  }, 60_000);

  it("cuts one short after the grace period and leaves it to the next server, which sends it under the same id, once", async () => {
    // Answered only after the first server has gone: before, it then recorded the answer in a closed database and
    // the message went out twice.
    receiver.answers.push({ afterMs: 4_000 });
    const first = await startWithGrace("1s");
    const phone = uniqueMobile();
    const userId = await addUserSendingCode(clientOf(first), phone);
    await receiver.waitForRequests(1);

    first.child.kill("SIGTERM");
    expect(await first.exited).toEqual({ code: 0, signal: null });
    expect(first.stderr.join("\n")).toContain("shutdown: a delivery under way was cut short; it is sent again after its lease, under the same id");
    expect(linesAfterStop(first)).toEqual([]);
    expect(outboxRows()).toEqual([expect.objectContaining({ status: "pending" })]);

    const second = await startServer(longDeliveryTimeoutMs);
    await receiver.waitForRequests(2);
    await eventually(allDelivered(1), "the message delivered");
    expect(receiver.webhookIds()).toHaveLength(1);
    expect(await sentEvents(userId)).toEqual(receiver.webhookIds());
    expectOk(await clientOf(second).call("verifyPhone", { userId, verificationCode: lastCodeFor(phone) }));
    await second.stop();
  }, 60_000);
});

describe("an outbox that keeps failing for a reason that is not the storage's", () => {
  it("is logged once, not on every poll, and once more when it works again", async () => {
    const server = await startServer(longDeliveryTimeoutMs);
    // Another program renames the outbox's table under the running server: each poll of the worker now fails.
    const renameOutbox = (from: string, to: string) => {
      const sqlite = openLiveDatabase(database);
      sqlite.exec(`ALTER TABLE ${from} RENAME TO ${to}`);
      sqlite.close();
    };
    renameOutbox("outbox", "outbox_elsewhere");
    const failures = () => server.stderr.filter((line) => line.includes("outbox worker failed"));
    await expect.poll(() => failures().length, { timeout: 5_000 }).toBe(1);
    // Eight polls and more.
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    expect(failures()).toHaveLength(1);
    expect(failures()[0]).toContain("no such table");

    renameOutbox("outbox_elsewhere", "outbox");
    await expect.poll(() => server.stderr.filter((line) => line.includes("outbox worker works again")).length).toBe(1);
    await addUserSendingCode(clientOf(server), uniqueMobile());
    await receiver.waitForRequests(1);
    expect(failures()).toHaveLength(1);
    await server.stop();
  });
});

describe("a provider that hangs on one channel", () => {
  it("holds up none of the other channel's messages", async () => {
    // One receiver per channel; the email one answers nothing until the delivery timeout.
    const emailReceiver = await startWebhookReceiver();
    emailReceiver.answers.push("hang", "hang", "hang");
    const server = await startServerProcess(database, {
      args: ["--sms-webhook-url", `${receiver.url}/sms`, "--email-webhook-url", `${emailReceiver.url}/email`, "--delivery-timeout", "20s", "--shutdown-grace", "1s"],
      env: { VERIFYD_WEBHOOK_SECRET: receiver.secret },
    });
    try {
      const client = clientOf(server);
      for (const name of ["a", "b", "c"]) {
        expectOk(await client.call("addHumanUser", { profile, email: { email: `${name}-${Date.now()}@example.com`, sendCode: {} } }));
      }
      await emailReceiver.waitForRequests(3);
      // The email deliveries now wait for their timeout: an SMS asked for meanwhile goes out at once.
      const askedAt = Date.now();
      await addUserSendingCode(client, uniqueMobile());
      await receiver.waitForRequests(1, 5_000);
      expect(Date.now() - askedAt).toBeLessThan(5_000);
    } finally {
      await server.stop();
      await emailReceiver.close();
    }
  }, 40_000);
});
