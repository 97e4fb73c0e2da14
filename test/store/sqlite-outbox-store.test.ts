import { describe, expect, it } from "vitest";
import { codeSendFailedEvent, codeSentEvent } from "../../src/domain/delivery-outcome-events.js";
import { SqliteOutboxStore } from "../../src/store/sqlite-outbox-store.js";
import { SqliteUserStore } from "../../src/store/sqlite-user-store.js";
import { openTemp } from "./support/temp-database.js";
import { at, changeUser, message, phoneCodeAdded, userAdded } from "./support/user-changes.js";

const minutes = (n: number) => n * 60_000;

/** A database holding one user with messages m1 (oldest) to m3, all expiring at minute 30. */
async function withMessages() {
  const handle = openTemp();
  const messages = [2, 1, 3].map((n) => message(`m${n}`, "u1", at(n), at(30)));
  await new SqliteUserStore(handle.db).append({ ...userAdded("u1", "ada"), outbox: messages });
  const row = (id: string) =>
    handle.sqlite.prepare("SELECT status, sealed, attempts, last_error FROM outbox WHERE id = ?").get(id) as {
      status: string;
      sealed: Buffer | null;
      attempts: number;
      last_error: string | null;
    };
  return { ...handle, messages, row };
}

describe("SqliteOutboxStore", () => {
  it("claims due messages oldest first, with their sealed bodies and attempts", async () => {
    const { db, messages } = await withMessages();
    const claimed = await new SqliteOutboxStore(db).claimDue(at(10), 2);
    const expected = [messages[1], messages[0]].map(({ purpose: _purpose, ...sealed }) => ({ ...sealed, attempts: 1 }));
    expect(claimed).toEqual(expected);
  });

  it("does not let a second worker claim a leased message until the lease runs out", async () => {
    const { db, path, row } = await withMessages();
    const first = new SqliteOutboxStore(db, { leaseMs: minutes(1) });
    const second = new SqliteOutboxStore(openTemp(path).db, { leaseMs: minutes(1) });

    expect(await first.claimDue(at(10), 10)).toHaveLength(3);
    expect(await second.claimDue(at(10), 10)).toEqual([]);
    expect((await second.claimDue(at(11), 10)).map((m) => m.id)).toEqual(["m1", "m2", "m3"]);
    expect(row("m1").attempts).toBe(2);
  });

  it("delivers a message once and wipes its body", async () => {
    const { db, row } = await withMessages();
    const outbox = new SqliteOutboxStore(db);
    await outbox.claimDue(at(10), 1);
    await outbox.markDelivered("m1", at(10));

    expect(row("m1")).toMatchObject({ status: "delivered", sealed: null });
    expect((await outbox.claimDue(at(20), 10)).map((m) => m.id)).toEqual(["m2", "m3"]);
  });

  it("records a delivery on the user's stream with it, once: a second worker's mark of the same message writes nothing", async () => {
    const { db } = await withMessages();
    const users = new SqliteUserStore(db);
    const outbox = new SqliteOutboxStore(db);
    await outbox.claimDue(at(10), 1);

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
    const { db, row } = await withMessages();
    const users = new SqliteUserStore(db);
    const outbox = new SqliteOutboxStore(db, { leaseMs: minutes(1) });
    await outbox.claimDue(at(10), 1);
    const failed = codeSendFailedEvent("phone", "m1", "webhook at hooks.example.com answered 400");

    expect(await outbox.markDead("m1", at(10), "webhook at hooks.example.com answered 400", failed)).toBe(true);
    expect(row("m1")).toMatchObject({ status: "dead", attempts: 1, last_error: "webhook at hooks.example.com answered 400" });
    expect(row("m1").sealed).not.toBeNull();
    expect((await users.events("u1")).at(-1)).toMatchObject({ type: "user.human.phone.code.send.failed", sequence: 2, payload: failed.payload });
    expect((await outbox.claimDue(at(12), 10)).map((m) => m.id)).toEqual(["m2", "m3"]);

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
    expect(await outbox.claimDue(at(12), 10)).toEqual([expect.objectContaining({ id: "m1", attempts: 1 })]);
  });

  it("retries all dead messages whose code is valid, and none whose code expired; expiry wipes them", async () => {
    const { db, row } = await withMessages();
    const outbox = new SqliteOutboxStore(db);
    await outbox.claimDue(at(10), 10);
    for (const id of ["m1", "m2", "m3"]) await outbox.markDead(id, at(10), "refused");

    expect(await outbox.retryDead("all", at(30))).toBe(0);
    expect(await outbox.listDead(at(30))).toEqual([]);
    expect(await outbox.backlog(at(30))).toMatchObject({ dead: 0 });
    expect(await outbox.retryDead(["m1"], at(29))).toBe(1);
    expect(await outbox.retryDead("all", at(29))).toBe(2);
    for (const id of ["m2", "m3"]) await outbox.markDead(id, at(29), "refused again");

    expect(await outbox.expire(at(30))).toBe(3);
    for (const id of ["m1", "m2", "m3"]) expect(row(id)).toMatchObject({ status: "expired", sealed: null });
  });

  it("wipes a dead message when a new code supersedes it", async () => {
    const { db, row } = await withMessages();
    const users = new SqliteUserStore(db);
    const outbox = new SqliteOutboxStore(db);
    await outbox.claimDue(at(10), 1);
    await outbox.markDead("m1", at(10), "refused");
    const state = await users.load("u1");
    if (!state) throw new Error("no user");
    await users.append({ ...changeUser(state, [phoneCodeAdded(at(40))], [message("m4", "u1", at(11), at(40))]), supersededChannels: ["phone"] });

    expect(row("m1")).toMatchObject({ status: "expired", sealed: null });
    expect(await outbox.retryDead("all", at(12))).toBe(0);
  });

  it("offers a failed message again after a back-off that doubles, and records the error", async () => {
    const { db, row } = await withMessages();
    const outbox = new SqliteOutboxStore(db);
    const claimed = async (ms: number) => (await outbox.claimDue(new Date(at(10).getTime() + ms), 1)).map((m) => m.id);
    await outbox.claimDue(at(10), 1);
    await outbox.markFailed("m1", at(10), "provider unavailable");

    expect(row("m1")).toMatchObject({ status: "pending", last_error: "provider unavailable" });
    expect(await claimed(999)).not.toContain("m1");
    expect(await claimed(1000)).toEqual(["m1"]);
    await outbox.markFailed("m1", new Date(at(10).getTime() + 1000), "provider unavailable");
    expect(await claimed(2999)).not.toContain("m1");
    expect(await claimed(3000)).toEqual(["m1"]);
  });

  it("discards a message that can never be delivered, wiping its body", async () => {
    const { db, row } = await withMessages();
    const outbox = new SqliteOutboxStore(db);
    await outbox.discard("m1");
    expect(row("m1")).toMatchObject({ status: "expired", sealed: null });
    expect((await outbox.claimDue(at(10), 10)).map((m) => m.id)).not.toContain("m1");
  });

  it("expires undelivered messages past their expiry, wiping their bodies, and never claims them", async () => {
    const { db, row } = await withMessages();
    const outbox = new SqliteOutboxStore(db);
    await outbox.claimDue(at(10), 1);
    await outbox.markDelivered("m1", at(10));

    expect(await outbox.claimDue(at(30), 10)).toEqual([]);
    expect(await outbox.expire(at(29))).toBe(0);
    expect(await outbox.expire(at(30))).toBe(2);
    expect(row("m1").status).toBe("delivered");
    for (const id of ["m2", "m3"]) expect(row(id)).toMatchObject({ status: "expired", sealed: null });
    expect(await outbox.expire(at(40))).toBe(0);
  });

  it("deletes delivered and expired messages whose code expired before the cut-off, never pending ones", async () => {
    const { db, sqlite, path } = await withMessages();
    // m4 expires later and is still pending when the others are long gone.
    await new SqliteUserStore(db).append({ ...userAdded("u2", "grace"), outbox: [message("m4", "u2", at(4), at(90))] });
    const outbox = new SqliteOutboxStore(db);
    await outbox.claimDue(at(10), 1);
    await outbox.markDelivered("m1", at(10));
    await outbox.discard("m2");
    const ids = () => (sqlite.prepare("SELECT id FROM outbox ORDER BY id").all() as { id: string }[]).map((r) => r.id);

    expect(await outbox.purge(at(29))).toBe(0);
    expect(ids()).toEqual(["m1", "m2", "m3", "m4"]);
    // m3 is still pending: past its expiry, but not yet wiped by expire(), so it stays.
    expect(await outbox.purge(at(30))).toBe(2);
    expect(ids()).toEqual(["m3", "m4"]);
    await outbox.expire(at(31));
    expect(await outbox.purge(at(100))).toBe(1);
    expect(ids()).toEqual(["m4"]);

    const plan = openTemp(path).sqlite
      .prepare("EXPLAIN QUERY PLAN DELETE FROM outbox WHERE status IN ('delivered', 'expired') AND expires_at <= 0")
      .all() as { detail: string }[];
    expect(plan.map((step) => step.detail).join("\n")).toContain("outbox_due");
  });
});
