// The outbox worker against a real SQLite outbox: delivery, a hung provider, and a message no key can open.
import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { parseKeyList } from "../../src/crypto/keyring.js";
import { createMessageSealer } from "../../src/crypto/message-sealer.js";
import { startOutboxWorker } from "../../src/delivery/outbox-worker.js";
import type { OutgoingMessage } from "../../src/domain/outgoing-message.js";
import { createLogger } from "../../src/logger.js";
import { SqliteOutboxStore } from "../../src/store/sqlite-outbox-store.js";
import { SqliteUserStore } from "../../src/store/sqlite-user-store.js";
import { openTemp } from "../store/support/temp-database.js";
import { at, changeUser, phoneCodeAdded, userAdded } from "../store/support/user-changes.js";

const text: OutgoingMessage = { channel: "phone", destination: "+41791234567", subject: "", text: "code 123456" };

async function outboxWithOneMessage(keyId = "1") {
  const { db, sqlite } = openTemp();
  const sealer = createMessageSealer(parseKeyList(`${keyId}:${randomBytes(32).toString("base64")}`));
  const users = new SqliteUserStore(db);
  const added = userAdded("u1", "ada");
  await users.append(added);
  const sealed = { id: "m1", userId: "u1", channel: "phone" as const, ...sealer.seal(text), createdAt: at(1), expiresAt: at(30) };
  await users.append(changeUser(added.next, [phoneCodeAdded(at(30))], [sealed]));
  const status = () => (sqlite.prepare("SELECT status, sealed FROM outbox WHERE id = 'm1'").get() as { status: string; sealed: Buffer | null });
  return { outbox: new SqliteOutboxStore(db), sealer, status };
}

const clock = { now: () => at(2) };
const logger = createLogger("silent");

describe("outbox worker", () => {
  it("delivers a message once and wipes it", async () => {
    const { outbox, sealer, status } = await outboxWithOneMessage();
    const delivered: OutgoingMessage[] = [];
    const worker = startOutboxWorker({ outbox, sealer, clock, logger, provider: { deliver: async (m) => void delivered.push(m) } });
    expect(await worker.runOnce()).toBe(1);
    expect(await worker.runOnce()).toBe(0);
    await worker.stop();
    expect(delivered).toEqual([text]);
    expect(status()).toEqual({ status: "delivered", sealed: null });
  });

  it("gives up on a provider that does not answer, aborting it, and keeps the message for a retry", async () => {
    const { outbox, sealer, status } = await outboxWithOneMessage();
    let aborted = false;
    const hung = {
      deliver: (_m: OutgoingMessage, signal: AbortSignal) =>
        new Promise<void>(() => signal.addEventListener("abort", () => (aborted = true))),
    };
    const worker = startOutboxWorker({ outbox, sealer, clock, logger, provider: hung, deliveryTimeoutMs: 50 });
    expect(await worker.runOnce()).toBe(0);
    await worker.stop();
    expect(aborted).toBe(true);
    expect(status().status).toBe("pending");
    expect(status().sealed).not.toBeNull();
  });

  it("discards a message that no key in the keyring can open", async () => {
    const { outbox, status } = await outboxWithOneMessage("old");
    const otherSealer = createMessageSealer(parseKeyList(`new:${randomBytes(32).toString("base64")}`));
    const worker = startOutboxWorker({ outbox, sealer: otherSealer, clock, logger, provider: { deliver: async () => {} } });
    expect(await worker.runOnce()).toBe(0);
    await worker.stop();
    expect(status()).toEqual({ status: "expired", sealed: null });
  });
});
