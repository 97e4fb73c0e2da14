// The outbox's contract, against SQLite and PostgreSQL alike; then SQLite's query plan, and PostgreSQL's workers in
// several processes (a second pool stands for another process) racing for the same messages.
import { describe, expect, it } from "vitest";
import { codeSendFailedEvent, codeSentEvent } from "../../src/domain/delivery-outcome-events.js";
import { openTemp } from "./support/temp-database.js";
import { type StoreHarness, dialects, openStoreHarness } from "./support/store-harness.js";
import { at, changeUser, message, phoneCodeAdded, userAdded } from "./support/user-changes.js";

const minutes = (n: number) => n * 60_000;
/** The keys the messages here are sealed with (user-changes.ts). */
const keys = ["key-1"];

/** A database holding one user with messages m1 (oldest) to m3, all expiring at minute 30. */
async function withMessages(dialect: StoreHarness["dialect"]) {
  const harness = await openStoreHarness(dialect);
  const messages = [2, 1, 3].map((n) => message(`m${n}`, "u1", at(n), at(30)));
  await harness.stores.users.append({ ...userAdded("u1", "ada"), outbox: messages });
  const row = async (id: string) =>
    (
      await harness.rows<{ status: string; sealed: Buffer | null; attempts: number; last_error: string | null }>(
        "SELECT status, sealed, attempts, last_error FROM outbox WHERE id = $1",
        [id],
      )
    )[0]!;
  return { ...harness, users: harness.stores.users, messages, row };
}

describe.each(dialects)("%s outbox store", (dialect) => {
  it("claims due messages oldest first, with their sealed bodies and attempts", async () => {
    const { stores, messages } = await withMessages(dialect);
    const claimed = await stores.outbox.claimDue(at(10), 2, keys);
    const expected = [messages[1], messages[0]].map(({ purpose: _purpose, ...sealed }) => ({ ...sealed, attempts: 1 }));
    expect(claimed).toEqual(expected);
  });

  it("claims one channel's messages only, when asked for a channel", async () => {
    const { stores } = await withMessages(dialect);
    const { outbox, users } = stores;
    await users.append({ ...userAdded("u2", "bob"), outbox: [{ ...message("m4", "u2", at(4), at(30)), channel: "email" }] });
    expect((await outbox.claimDue(at(10), 10, keys, "email")).map((claimed) => claimed.id)).toEqual(["m4"]);
    expect((await outbox.claimDue(at(10), 10, keys, "phone")).map((claimed) => claimed.id)).toEqual(["m1", "m2", "m3"]);
  });

  it("leaves a message sealed with a key the worker lacks to a worker that has it", async () => {
    const { stores } = await withMessages(dialect);
    expect(await stores.outbox.claimDue(at(10), 10, ["key-2"])).toEqual([]);
    expect((await stores.outbox.claimDue(at(10), 10, ["key-2", "key-1"])).map((m) => m.id)).toEqual(["m1", "m2", "m3"]);
  });

  it("does not let a second worker claim a leased message until the lease runs out", async () => {
    const harness = await withMessages(dialect);
    const first = harness.storesWith({ outboxLeaseMs: minutes(1) }).outbox;
    const second = (await harness.reopen()).storesWith({ outboxLeaseMs: minutes(1) }).outbox;

    expect(await first.claimDue(at(10), 10, keys)).toHaveLength(3);
    expect(await second.claimDue(at(10), 10, keys)).toEqual([]);
    expect((await second.claimDue(at(11), 10, keys)).map((m) => m.id)).toEqual(["m1", "m2", "m3"]);
    expect((await harness.row("m1")).attempts).toBe(2);
  });

  it("delivers a message once and wipes its body", async () => {
    const { stores, row } = await withMessages(dialect);
    const { outbox } = stores;
    await outbox.claimDue(at(10), 1, keys);
    await outbox.markDelivered("m1", at(10));

    expect(await row("m1")).toMatchObject({ status: "delivered", sealed: null });
    expect((await outbox.claimDue(at(20), 10, keys)).map((m) => m.id)).toEqual(["m2", "m3"]);
  });

  it("records a delivery on the user's stream with it, once: a second worker's mark of the same message writes nothing", async () => {
    const { stores, users } = await withMessages(dialect);
    const { outbox } = stores;
    await outbox.claimDue(at(10), 1, keys);

    expect(await outbox.markDelivered("m1", at(10), codeSentEvent("phone", "m1"))).toBe(true);
    expect(await outbox.markDelivered("m1", at(11), codeSentEvent("phone", "m1"))).toBe(false);
    const events = await users.events("u1");
    expect(events.map((event) => [event.type, event.sequence])).toEqual([
      ["user.human.added", 1],
      ["user.human.phone.code.sent", 2],
    ]);
    expect(events[1]).toMatchObject({ payload: { messageId: "m1" }, createdAt: at(10), resourceOwner: "org-1" });
    expect(await users.load("u1")).toMatchObject({ sequence: 2, changedAt: at(10) });
  });

  it("makes a message dead with its event, keeping its body; lists it without the body; a retry makes it due at once", async () => {
    const harness = await withMessages(dialect);
    const { users, row } = harness;
    const { outbox } = harness.storesWith({ outboxLeaseMs: minutes(1) });
    await outbox.claimDue(at(10), 1, keys);
    const failed = codeSendFailedEvent("phone", "m1", "webhook at hooks.example.com answered 400");

    expect(await outbox.markDead("m1", at(10), "webhook at hooks.example.com answered 400", failed)).toBe(true);
    expect(await row("m1")).toMatchObject({ status: "dead", attempts: 1, last_error: "webhook at hooks.example.com answered 400" });
    expect((await row("m1")).sealed).not.toBeNull();
    expect((await users.events("u1")).at(-1)).toMatchObject({ type: "user.human.phone.code.send.failed", sequence: 2, payload: failed.payload });
    expect((await outbox.claimDue(at(12), 10, keys)).map((m) => m.id)).toEqual(["m2", "m3"]);

    expect(await outbox.listDead(at(12))).toEqual([
      {
        id: "m1",
        userId: "u1",
        channel: "phone",
        attempts: 1,
        lastError: "webhook at hooks.example.com answered 400",
        createdAt: at(1),
        lastFailureAt: at(10),
        expiresAt: at(30),
      },
    ]);
    expect(await outbox.backlog(at(12))).toMatchObject({ pending: 2, dead: 1 });

    expect(await outbox.retryDead(["m1", "m2", "unknown"], at(12))).toBe(1);
    expect(await outbox.listDead(at(12))).toEqual([]);
    expect(await outbox.claimDue(at(12), 10, keys)).toEqual([expect.objectContaining({ id: "m1", attempts: 1 })]);
  });

  it("retries all dead messages whose code is valid, and none whose code expired; expiry wipes them", async () => {
    const { stores, row } = await withMessages(dialect);
    const { outbox } = stores;
    await outbox.claimDue(at(10), 10, keys);
    for (const id of ["m1", "m2", "m3"]) await outbox.markDead(id, at(10), "refused");

    expect(await outbox.retryDead("all", at(30))).toBe(0);
    expect(await outbox.listDead(at(30))).toEqual([]);
    expect(await outbox.backlog(at(30))).toMatchObject({ dead: 0 });
    expect(await outbox.retryDead(["m1"], at(29))).toBe(1);
    expect(await outbox.retryDead("all", at(29))).toBe(2);
    for (const id of ["m2", "m3"]) await outbox.markDead(id, at(29), "refused again");

    expect(await outbox.expire(at(30))).toBe(3);
    for (const id of ["m1", "m2", "m3"]) expect(await row(id)).toMatchObject({ status: "expired", sealed: null });
  });

  it("counts the backlog: waiting messages and when the oldest was made, and dead ones", async () => {
    const { stores } = await withMessages(dialect);
    const { outbox } = stores;
    expect(await outbox.backlog(at(10))).toEqual({ pending: 3, oldestPendingCreatedAt: at(1), dead: 0 });
    await outbox.claimDue(at(10), 1, keys);
    await outbox.markDead("m1", at(10), "refused");
    expect(await outbox.backlog(at(10))).toEqual({ pending: 2, oldestPendingCreatedAt: at(2), dead: 1 });
    expect(await outbox.backlog(at(30))).toEqual({ pending: 0, dead: 0 });
  });

  it("counts pending and dead messages by the key that sealed them, while their code is valid", async () => {
    const { stores } = await withMessages(dialect);
    const { outbox, users } = stores;
    await users.append({ ...userAdded("u2", "bob"), outbox: [{ ...message("m4", "u2", at(4), at(20)), keyId: "key-2" }] });
    await outbox.claimDue(at(10), 1, keys);
    await outbox.markDead("m1", at(10), "refused");
    await outbox.claimDue(at(10), 1, keys);
    await outbox.markDelivered("m2", at(10));
    expect(await outbox.waitingByKey(at(10))).toEqual(new Map([["key-1", 2], ["key-2", 1]]));
    expect(await outbox.waitingByKey(at(25))).toEqual(new Map([["key-1", 2]]));
    expect(await outbox.waitingByKey(at(30))).toEqual(new Map());
  });

  it("wipes a dead message when a new code supersedes it", async () => {
    const { stores, users, row } = await withMessages(dialect);
    const { outbox } = stores;
    await outbox.claimDue(at(10), 1, keys);
    await outbox.markDead("m1", at(10), "refused");
    const state = await users.load("u1");
    if (!state) throw new Error("no user");
    await users.append({ ...changeUser(state, [phoneCodeAdded(at(40))], [message("m4", "u1", at(11), at(40))]), supersededChannels: ["phone"] });

    expect(await row("m1")).toMatchObject({ status: "expired", sealed: null });
    expect(await outbox.retryDead("all", at(12))).toBe(0);
  });

  it("offers a failed message again after a back-off that doubles, and records the error", async () => {
    const { stores, row } = await withMessages(dialect);
    const { outbox } = stores;
    const claimed = async (ms: number) => (await outbox.claimDue(new Date(at(10).getTime() + ms), 1, keys)).map((m) => m.id);
    await outbox.claimDue(at(10), 1, keys);
    expect(await outbox.markFailed("m1", at(10), "provider unavailable")).toBe(true);
    // A message gone meanwhile (erased with its user, or settled by another worker) is not retried.
    expect(await outbox.markFailed("no-such-message", at(10), "provider unavailable")).toBe(false);

    expect(await row("m1")).toMatchObject({ status: "pending", last_error: "provider unavailable" });
    expect(await claimed(999)).not.toContain("m1");
    expect(await claimed(1000)).toEqual(["m1"]);
    await outbox.markFailed("m1", new Date(at(10).getTime() + 1000), "provider unavailable");
    expect(await claimed(2999)).not.toContain("m1");
    expect(await claimed(3000)).toEqual(["m1"]);
  });

  it("waits as long as the provider asked when that is longer than the back-off, never shorter", async () => {
    const { stores } = await withMessages(dialect);
    const { outbox } = stores;
    const claimed = async (ms: number) => (await outbox.claimDue(new Date(at(10).getTime() + ms), 1, keys)).map((m) => m.id);
    await outbox.claimDue(at(10), 1, keys);
    await outbox.markFailed("m1", at(10), "rate limited", 20_000);
    expect(await claimed(19_999)).not.toContain("m1");
    expect(await claimed(20_000)).toEqual(["m1"]);
    // A second failure's back-off is 2 s; a provider asking for less does not shorten it.
    await outbox.markFailed("m1", new Date(at(10).getTime() + 20_000), "rate limited", 500);
    expect(await claimed(21_999)).not.toContain("m1");
    expect(await claimed(22_000)).toEqual(["m1"]);
  });

  it("discards a message that can never be delivered, wiping its body", async () => {
    const { stores, row } = await withMessages(dialect);
    const { outbox } = stores;
    await outbox.discard("m1");
    expect(await row("m1")).toMatchObject({ status: "expired", sealed: null });
    expect((await outbox.claimDue(at(10), 10, keys)).map((m) => m.id)).not.toContain("m1");
  });

  it("expires undelivered messages past their expiry, wiping their bodies, and never claims them", async () => {
    const { stores, row } = await withMessages(dialect);
    const { outbox } = stores;
    await outbox.claimDue(at(10), 1, keys);
    await outbox.markDelivered("m1", at(10));

    expect(await outbox.claimDue(at(30), 10, keys)).toEqual([]);
    expect(await outbox.expire(at(29))).toBe(0);
    expect(await outbox.expire(at(30))).toBe(2);
    expect((await row("m1")).status).toBe("delivered");
    for (const id of ["m2", "m3"]) expect(await row(id)).toMatchObject({ status: "expired", sealed: null });
    expect(await outbox.expire(at(40))).toBe(0);
  });

  it("deletes delivered and expired messages whose code expired before the cut-off, never pending ones", async () => {
    const { stores, users, rows } = await withMessages(dialect);
    // m4 expires later and is still pending when the others are long gone.
    await users.append({ ...userAdded("u2", "grace"), outbox: [message("m4", "u2", at(4), at(90))] });
    const { outbox } = stores;
    await outbox.claimDue(at(10), 1, keys);
    await outbox.markDelivered("m1", at(10));
    await outbox.discard("m2");
    const ids = async () => (await rows<{ id: string }>("SELECT id FROM outbox ORDER BY id")).map((r) => r.id);

    expect(await outbox.purge(at(29))).toBe(0);
    expect(await ids()).toEqual(["m1", "m2", "m3", "m4"]);
    // m3 is still pending: past its expiry, but not yet wiped by expire(), so it stays.
    expect(await outbox.purge(at(30))).toBe(2);
    expect(await ids()).toEqual(["m3", "m4"]);
    await outbox.expire(at(31));
    expect(await outbox.purge(at(100))).toBe(1);
    expect(await ids()).toEqual(["m4"]);
  });
});

describe("SQLite outbox store only: query plans", () => {
  it("finds the messages to purge through outbox_due", async () => {
    const { database } = await openStoreHarness("sqlite");
    const plan = openTemp(database).sqlite
      .prepare("EXPLAIN QUERY PLAN DELETE FROM outbox WHERE status IN ('delivered', 'expired') AND expires_at <= 0")
      .all() as { detail: string }[];
    expect(plan.map((step) => step.detail).join("\n")).toContain("outbox_due");
  });
});

describe("PostgreSQL outbox store only: workers in several processes", () => {
  it("never lets two workers claiming at once claim the same message", async () => {
    const harness = await openStoreHarness("postgres");
    const many = Array.from({ length: 60 }, (_, n) => message(`m${String(n).padStart(2, "0")}`, "u1", at(1), at(30)));
    await harness.stores.users.append({ ...userAdded("u1", "ada"), outbox: many });
    const workers = [harness.stores.outbox, (await harness.reopen()).stores.outbox, (await harness.reopen()).stores.outbox];

    const claimed: string[] = [];
    for (let round = 0; round < 10; round++) {
      const batches = await Promise.all(workers.flatMap((outbox) => [outbox.claimDue(at(10), 2, keys), outbox.claimDue(at(10), 2, keys)]));
      claimed.push(...batches.flat().map((m) => m.id));
    }

    expect(new Set(claimed).size).toBe(claimed.length);
    expect(claimed).toHaveLength(60);
    expect(await harness.rows("SELECT id FROM outbox WHERE attempts <> 1")).toEqual([]);
  });

  it("lets one of two workers racing to mark a message delivered record it, once", async () => {
    const harness = await openStoreHarness("postgres");
    const messages = Array.from({ length: 10 }, (_, n) => message(`m${n}`, "u1", at(1), at(30)));
    await harness.stores.users.append({ ...userAdded("u1", "ada"), outbox: messages });
    const workers = [harness.stores.outbox, (await harness.reopen()).stores.outbox];

    for (const { id } of messages) {
      const marked = await Promise.all(workers.map((outbox, n) => outbox.markDelivered(id, at(10 + n), codeSentEvent("phone", id))));
      expect(marked.filter(Boolean)).toHaveLength(1);
    }

    const events = await harness.stores.users.events("u1");
    expect(events.map((event) => event.sequence)).toEqual(Array.from({ length: 11 }, (_, n) => n + 1));
    expect(events.slice(1).map((event) => (event.payload as { messageId: string }).messageId)).toEqual(messages.map((m) => m.id));
    expect(await harness.stores.users.load("u1")).toMatchObject({ sequence: 11 });
  });

  it("records a delivery and an append racing for one user both, without waiting for each other in a cycle", async () => {
    const harness = await openStoreHarness("postgres");
    const { users } = harness.stores;
    const other = (await harness.reopen()).stores.outbox;
    await users.append(userAdded("u1", "ada"));

    for (let round = 0; round < 10; round++) {
      const id = `m${round}`;
      const withCode = changeUser((await users.load("u1"))!, [phoneCodeAdded(at(30))], [message(id, "u1", at(round), at(30))]);
      await users.append(withCode);
      // The append supersedes the very message the worker marks.
      const superseding = { ...changeUser(withCode.next, [phoneCodeAdded(at(40))]), supersededChannels: ["phone" as const] };
      const [append, marked] = await Promise.allSettled([users.append(superseding), other.markDelivered(id, at(10), codeSentEvent("phone", id))]);

      // Either may come first: a delivery recorded first makes the append's sequence stale; an append first wipes the message.
      expect(marked.status).toBe("fulfilled");
      const delivered = (marked as PromiseFulfilledResult<boolean>).value;
      if (delivered) expect(append).toMatchObject({ status: "rejected", reason: { name: "AppendConflict", conflict: "sequence" } });
      else expect(append.status).toBe("fulfilled");
    }
    const events = await users.events("u1");
    expect(events.map((event) => event.sequence)).toEqual(Array.from({ length: events.length }, (_, n) => n + 1));
    expect(events).toHaveLength(21);
  });
});
