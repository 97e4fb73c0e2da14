// The outbox worker against a real SQLite outbox: delivery and its events, retries and the dead state, a hung
// provider, a message sealed with a key the worker lacks, and one its key cannot open.
import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { parseKeyList } from "../../src/crypto/keyring.js";
import { createMessageSealer } from "../../src/crypto/message-sealer.js";
import { startOutboxWorker } from "../../src/delivery/outbox-worker.js";
import { PermanentDeliveryFailure } from "../../src/delivery/permanent-delivery-failure.js";
import { errors } from "../../src/domain/errors.js";
import type { OutgoingMessage } from "../../src/domain/outgoing-message.js";
import type { OutboxStore } from "../../src/domain/ports.js";
import { createLogger } from "../../src/logger.js";
import { SqliteOutboxStore } from "../../src/store/sqlite/sqlite-outbox-store.js";
import { SqliteUserStore } from "../../src/store/sqlite/sqlite-user-store.js";
import { openTemp } from "../store/support/temp-database.js";
import { at, changeUser, phoneCodeAdded, userAdded } from "../store/support/user-changes.js";

const text: OutgoingMessage = { channel: "phone", destination: "+41791234567", purpose: "code", subject: "", text: "code 123456" };

async function outboxWithOneMessage(keyId = "1", body: OutgoingMessage = text) {
  const { db, sqlite } = openTemp();
  const sealer = createMessageSealer(parseKeyList(`${keyId}:${randomBytes(32).toString("base64")}`));
  const users = new SqliteUserStore(db);
  const added = userAdded("u1", "ada");
  await users.append(added);
  const sealed = { id: "m1", userId: "u1", channel: "phone" as const, purpose: body.purpose, ...sealer.seal(body), createdAt: at(1), expiresAt: at(30) };
  await users.append(changeUser(added.next, [phoneCodeAdded(at(30))], [sealed]));
  const status = () => (sqlite.prepare("SELECT status, sealed FROM outbox WHERE id = 'm1'").get() as { status: string; sealed: Buffer | null });
  const appended = async () => (await users.events("u1")).slice(2);
  return { outbox: new SqliteOutboxStore(db), sealer, status, appended, users };
}

const clock = { now: () => at(2) };
const logger = createLogger("silent");
const retentionMs = 7 * 24 * 3_600_000;

describe("outbox worker", () => {
  it("delivers a message once and wipes it", async () => {
    const { outbox, sealer, status } = await outboxWithOneMessage();
    const delivered: OutgoingMessage[] = [];
    const worker = startOutboxWorker({ outbox, sealer, clock, logger, retentionMs, provider: { deliver: async (m) => void delivered.push(m) } });
    expect(await worker.runOnce()).toBe(1);
    expect(await worker.runOnce()).toBe(0);
    await worker.stop();
    expect(delivered).toEqual([text]);
    expect(status()).toEqual({ status: "delivered", sealed: null });
  });

  it("records the code's delivery on the user's stream, with the message id, and logs the outcome without the text", async () => {
    const { outbox, sealer, appended } = await outboxWithOneMessage();
    const lines: string[] = [];
    const worker = startOutboxWorker({
      outbox,
      sealer,
      clock,
      logger: createLogger("info", (line) => lines.push(line)),
      retentionMs,
      provider: { deliver: async () => {} },
      providerNames: { phone: "webhook" },
    });
    await worker.runOnce();
    await worker.stop();
    expect(await appended()).toEqual([expect.objectContaining({ type: "user.human.phone.code.sent", sequence: 3, payload: { messageId: "m1" } })]);
    expect(lines.map((line) => JSON.parse(line))).toEqual([
      expect.objectContaining({ message: "message delivered", messageId: "m1", userId: "u1", channel: "phone", provider: "webhook", outcome: "delivered", attempt: 1 }),
    ]);
    expect(lines.join("")).not.toContain("123456");
    expect(lines.join("")).not.toContain("+41791234567");
  });

  it("makes a message dead when its attempts run out, with a failure event whose reason masks the number", async () => {
    const { outbox, sealer, status, appended } = await outboxWithOneMessage();
    let now = at(2);
    const outcomes: string[] = [];
    const failing = { deliver: async () => Promise.reject(new Error("vendor busy, try +41791234567 later")) };
    const worker = startOutboxWorker({
      outbox,
      sealer,
      clock: { now: () => now },
      logger,
      retentionMs,
      provider: failing,
      maxAttempts: 2,
      onDelivery: (outcome) => outcomes.push(outcome),
    });
    await worker.runOnce();
    expect(status().status).toBe("pending");
    now = new Date(now.getTime() + 1_000);
    await worker.runOnce();
    now = new Date(now.getTime() + 60_000);
    await worker.runOnce();
    await worker.stop();

    expect(outcomes).toEqual(["failed", "dead"]);
    expect(status().status).toBe("dead");
    expect(status().sealed).not.toBeNull();
    const [failed] = await appended();
    expect(failed).toMatchObject({ type: "user.human.phone.code.send.failed", payload: { messageId: "m1" } });
    expect(JSON.stringify(failed)).not.toContain("+41791234567");
    expect(JSON.stringify(failed)).toContain("67 later");
  });

  it("warns once of a provider that keeps failing, and says once when it delivers again", async () => {
    const { outbox, sealer, status } = await outboxWithOneMessage();
    let now = at(2);
    const lines: string[] = [];
    let failuresLeft = 4;
    const flaky = { deliver: async () => (failuresLeft-- > 0 ? Promise.reject(new Error("vendor answered 500")) : undefined) };
    const worker = startOutboxWorker({
      outbox,
      sealer,
      clock: { now: () => now },
      logger: createLogger("debug", (line) => lines.push(line)),
      retentionMs,
      provider: flaky,
    });
    for (let attempt = 0; attempt < 5; attempt++) {
      await worker.runOnce();
      now = new Date(now.getTime() + 60_000);
    }
    await worker.stop();
    expect(status().status).toBe("delivered");
    const parsed = lines.map((line) => JSON.parse(line) as { level: string; message: string; failedAttempts?: number });
    const failed = parsed.filter((line) => line.message.startsWith("delivery failed"));
    expect(failed.map((line) => line.level)).toEqual(["warn", "debug", "debug", "debug"]);
    expect(parsed.filter((line) => line.message === "deliveries work again")).toEqual([expect.objectContaining({ level: "info", failedAttempts: 4 })]);
  });

  it("says of a failed delivery whose user was deleted meanwhile that nothing will retry it, and does not count it as a provider's failure", async () => {
    const { outbox, sealer, status, users } = await outboxWithOneMessage();
    const lines: string[] = [];
    const failingAfterTheDeletion = {
      deliver: async () => {
        const user = await users.load("u1");
        await users.erase("u1", user?.sequence ?? 0);
        throw new Error("vendor answered 500");
      },
    };
    const worker = startOutboxWorker({ outbox, sealer, clock, logger: createLogger("debug", (line) => lines.push(line)), retentionMs, provider: failingAfterTheDeletion });
    await worker.runOnce();
    await worker.stop();
    expect(status()).toBeUndefined();
    const parsed = lines.map((line) => JSON.parse(line) as { level: string; message: string });
    expect(parsed).toEqual([
      expect.objectContaining({
        level: "info",
        message: "delivery failed; not retried: the message was settled or erased with its user meanwhile",
        messageId: "m1",
        alreadySettled: true,
      }),
    ]);
  });

  it("keeps one failure episode for a provider that fails now and then, ended by a minute of deliveries without a failure", async () => {
    const { outbox, sealer, users } = await outboxWithOneMessage();
    let now = at(2);
    const lines: string[] = [];
    // Every other attempt fails, four times in all.
    let attempts = 0;
    const flaky = { deliver: async () => (++attempts % 2 === 1 && attempts < 8 ? Promise.reject(new Error("vendor answered 500")) : undefined) };
    const worker = startOutboxWorker({ outbox, sealer, clock: { now: () => now }, logger: createLogger("info", (line) => lines.push(line)), retentionMs, provider: flaky });
    const sendNextCode = async (id: string) => {
      const user = await users.load("u1");
      const sealed = { id, userId: "u1", channel: "phone" as const, purpose: text.purpose, ...sealer.seal(text), createdAt: now, expiresAt: at(30) };
      await users.append(changeUser(user!, [phoneCodeAdded(at(30))], [sealed]));
    };
    const messages = () => lines.map((line) => (JSON.parse(line) as { message: string }).message);
    await worker.runOnce();
    for (let round = 1; round < 8; round++) {
      now = new Date(now.getTime() + 5_000);
      await sendNextCode(`m${round + 1}`);
      await worker.runOnce();
    }
    expect(messages().filter((message) => message.startsWith("delivery failed"))).toEqual([
      "delivery failed; will retry (further failures on this channel at debug, until deliveries work for a minute)",
    ]);
    expect(messages()).not.toContain("deliveries work again");

    now = new Date(now.getTime() + 60_000);
    await sendNextCode("m9");
    await worker.runOnce();
    await worker.stop();
    expect(lines.map((line) => JSON.parse(line))).toContainEqual(expect.objectContaining({ message: "deliveries work again", failedAttempts: 4 }));
  });

  it("makes a message the provider refuses for good dead at once", async () => {
    const { outbox, sealer, status, appended } = await outboxWithOneMessage();
    const refusing = { deliver: async () => Promise.reject(new PermanentDeliveryFailure("webhook at hooks.example.com answered 400")) };
    const worker = startOutboxWorker({ outbox, sealer, clock, logger, retentionMs, provider: refusing });
    await worker.runOnce();
    await worker.stop();
    expect(status().status).toBe("dead");
    expect(await appended()).toEqual([
      expect.objectContaining({
        type: "user.human.phone.code.send.failed",
        payload: { messageId: "m1", reason: "webhook at hooks.example.com answered 400" },
      }),
    ]);
  });

  it("records nothing on the user's stream for a message that carries no code", async () => {
    const notice: OutgoingMessage = { ...text, purpose: "contact-changed", text: "Your phone number was changed." };
    for (const provider of [{ deliver: async () => {} }, { deliver: async () => Promise.reject(new PermanentDeliveryFailure("refused")) }]) {
      const { outbox, sealer, status, appended } = await outboxWithOneMessage("1", notice);
      const worker = startOutboxWorker({ outbox, sealer, clock, logger, retentionMs, provider });
      await worker.runOnce();
      await worker.stop();
      expect(["delivered", "dead"]).toContain(status().status);
      expect(await appended()).toEqual([]);
    }
  });

  it("gives up on a provider that does not answer, aborting it, and keeps the message for a retry", async () => {
    const { outbox, sealer, status } = await outboxWithOneMessage();
    let aborted = false;
    const hung = {
      deliver: (_m: OutgoingMessage, signal: AbortSignal) =>
        new Promise<void>(() => signal.addEventListener("abort", () => (aborted = true))),
    };
    const worker = startOutboxWorker({ outbox, sealer, clock, logger, retentionMs, provider: hung, deliveryTimeoutMs: 50 });
    expect(await worker.runOnce()).toBe(0);
    await worker.stop();
    expect(aborted).toBe(true);
    expect(status().status).toBe("pending");
    expect(status().sealed).not.toBeNull();
  });

  it("leaves a message sealed with a key it lacks to a worker that has the key", async () => {
    const { outbox, sealer, status } = await outboxWithOneMessage("new");
    // An instance not yet restarted with the new key, during a rotation rolled out one instance at a time.
    const notRestarted = createMessageSealer(parseKeyList(`old:${randomBytes(32).toString("base64")}`));
    const delivered: OutgoingMessage[] = [];
    const provider = { deliver: async (message: OutgoingMessage) => void delivered.push(message) };
    const lagging = startOutboxWorker({ outbox, sealer: notRestarted, clock, logger, retentionMs, provider });
    expect(await lagging.runOnce()).toBe(0);
    await lagging.stop();
    expect(status().status).toBe("pending");

    const restarted = startOutboxWorker({ outbox, sealer, clock, logger, retentionMs, provider });
    expect(await restarted.runOnce()).toBe(1);
    await restarted.stop();
    expect(delivered).toEqual([text]);
  });

  it("discards a message its key cannot open: no retry can deliver it", async () => {
    const { outbox, status } = await outboxWithOneMessage("1");
    const otherKeyUnderTheSameId = createMessageSealer(parseKeyList(`1:${randomBytes(32).toString("base64")}`));
    const worker = startOutboxWorker({ outbox, sealer: otherKeyUnderTheSameId, clock, logger, retentionMs, provider: { deliver: async () => {} } });
    expect(await worker.runOnce()).toBe(0);
    await worker.stop();
    expect(status()).toEqual({ status: "expired", sealed: null });
  });

  it("deletes a delivered message once the retention after its code's expiry has passed", async () => {
    const { outbox, sealer, status } = await outboxWithOneMessage();
    let now = at(2);
    const movable = { now: () => now };
    const worker = startOutboxWorker({ outbox, sealer, clock: movable, logger, retentionMs, provider: { deliver: async () => {} } });
    expect(await worker.runOnce()).toBe(1);
    // The code expires at minute 30; the row stays for the retention after that, then goes.
    now = new Date(at(30).getTime() + retentionMs - 1);
    await worker.runOnce();
    expect(status()).toEqual({ status: "delivered", sealed: null });
    now = new Date(at(30).getTime() + retentionMs);
    await worker.runOnce();
    await worker.stop();
    expect(status()).toBeUndefined();
  });

  it("logs a failure of one channel's lane once, while the other lanes work", async () => {
    const lines: string[] = [];
    const { outbox, sealer } = await outboxWithOneMessage();
    const emailFails: OutboxStore = Object.assign(Object.create(outbox) as OutboxStore, {
      claimDue: (now: Date, limit: number, keyIds: readonly string[], channel?: "phone" | "email") =>
        channel === "email" ? Promise.reject(new Error("email claims fail")) : outbox.claimDue(now, limit, keyIds, channel),
    });
    const worker = startOutboxWorker({
      outbox: emailFails,
      sealer,
      clock,
      logger: createLogger("info", (line) => lines.push(line)),
      retentionMs,
      provider: { deliver: async () => undefined },
      pollIntervalMs: 1,
    });
    await new Promise((resolve) => setTimeout(resolve, 200));
    await worker.stop();
    const messages = lines.map((line) => (JSON.parse(line) as { message: string }).message);
    expect(messages.filter((message) => message.startsWith("outbox worker"))).toEqual(["outbox worker failed; repeats are not logged until it works again"]);
  });

  it("does not log a storage failure on every run: the storage's own episode line says it", async () => {
    const lines: string[] = [];
    const { outbox } = await outboxWithOneMessage();
    const failing: OutboxStore = {
      claimDue: (now, limit, keyIds) => outbox.claimDue(now, limit, keyIds),
      markDelivered: (id, at, event) => outbox.markDelivered(id, at, event),
      markFailed: (id, at, error) => outbox.markFailed(id, at, error),
      markDead: (id, at, error, event) => outbox.markDead(id, at, error, event),
      discard: (id) => outbox.discard(id),
      purge: (before) => outbox.purge(before),
      listDead: (now) => outbox.listDead(now),
      waitingByKey: (now) => outbox.waitingByKey(now),
      retryDead: (ids, now) => outbox.retryDead(ids, now),
      expire: async () => {
        throw errors.storageUnavailable();
      },
    };
    const worker = startOutboxWorker({
      outbox: failing,
      sealer: createMessageSealer(parseKeyList(`1:${randomBytes(32).toString("base64")}`)),
      clock,
      logger: createLogger("info", (line) => lines.push(line)),
      retentionMs,
      pollIntervalMs: 1,
    });
    await expect(worker.runOnce()).rejects.toMatchObject({ reason: "STORAGE_UNAVAILABLE" });
    await new Promise((resolve) => setTimeout(resolve, 50));
    await worker.stop();
    expect(lines).toEqual([]);
  });

  // A trial of three instances on one PostgreSQL database: a worker whose claim came back after a 45 s freeze sent
  // messages another worker was sending too, and a delivery its worker could not record left no line about it.
  it("leaves a claim that came back too late to deliver within its lease to the next claim", async () => {
    const { outbox, sealer, status } = await outboxWithOneMessage();
    let now = at(2);
    const late = Object.create(outbox) as SqliteOutboxStore;
    late.claimDue = async (...args) => {
      const claimed = await outbox.claimDue(...args);
      now = new Date(now.getTime() + 6_000);
      return claimed;
    };
    const lines: string[] = [];
    const delivered: OutgoingMessage[] = [];
    const options = { sealer, clock: { now: () => now }, retentionMs, deliveryTimeoutMs: 30_000, leaseMs: 35_000 };
    const provider = { deliver: async (message: OutgoingMessage) => void delivered.push(message) };
    const paused = startOutboxWorker({ ...options, outbox: late, provider, logger: createLogger("info", (line) => lines.push(line)) });
    expect(await paused.runOnce()).toBe(0);
    await paused.stop();
    expect(delivered).toEqual([]);
    expect(status().status).toBe("pending");
    expect(lines.map((line) => JSON.parse(line))).toEqual([
      expect.objectContaining({ message: "claimed messages came back too late to be delivered within their lease; left to the next claim", count: 1 }),
    ]);

    now = new Date(now.getTime() + 35_000);
    const next = startOutboxWorker({ ...options, outbox, provider, logger });
    expect(await next.runOnce()).toBe(1);
    await next.stop();
    expect(delivered).toEqual([text]);
  });

  it("says which message went out when its delivery could not be recorded", async () => {
    const { outbox, sealer } = await outboxWithOneMessage();
    const unrecorded = Object.create(outbox) as SqliteOutboxStore;
    unrecorded.markDelivered = async () => {
      throw errors.storageUnavailable();
    };
    const lines: string[] = [];
    const worker = startOutboxWorker({
      outbox: unrecorded,
      sealer,
      clock,
      logger: createLogger("info", (line) => lines.push(line)),
      retentionMs,
      provider: { deliver: async () => {} },
    });
    await expect(worker.runOnce()).rejects.toMatchObject({ reason: "STORAGE_UNAVAILABLE" });
    await worker.stop();
    expect(lines.map((line) => JSON.parse(line))).toContainEqual(
      expect.objectContaining({
        message: "message delivered, but its delivery could not be recorded; it is sent again after its lease, under the same id",
        messageId: "m1",
        outcome: "unrecorded",
      }),
    );
  });

  // A white-box review: an SMTP relay (or whoever sits on a cleartext connection to it) answered RCPT with escape
  // sequences, kept as they came, which cleared the operator's terminal and printed forged lines in `outbox list-dead`.
  it("keeps a provider's refusal with its control characters shown as U+XXXX, not as they came", async () => {
    const { outbox, sealer } = await outboxWithOneMessage();
    const refusal = "SMTP server answered 550 5.1.1 \x1b[2J\x1b]0;owned\x07\x1b[31mFAKE: all delivered\x1b[0m\r\nnext";
    const worker = startOutboxWorker({
      outbox,
      sealer,
      clock,
      logger,
      retentionMs,
      provider: { deliver: async () => Promise.reject(new PermanentDeliveryFailure(refusal)) },
    });
    await worker.runOnce();
    await worker.stop();
    const [dead] = await outbox.listDead(at(2));
    expect(dead?.lastError).toBe("SMTP server answered 550 5.1.1 U+001B[2JU+001B]0;ownedU+0007U+001B[31mFAKE: all deliveredU+001B[0m  next");
  });
});
