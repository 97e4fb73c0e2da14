import { describe, expect, it } from "vitest";
import { SqliteOutboxStore } from "../../src/store/sqlite-outbox-store.js";
import { SqliteUserStore } from "../../src/store/sqlite-user-store.js";
import { openTemp } from "./support/temp-database.js";
import { at, message, userAdded } from "./support/user-changes.js";

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
  it("claims due messages oldest first, with their sealed bodies", async () => {
    const { db, messages } = await withMessages();
    const claimed = await new SqliteOutboxStore(db).claimDue(at(10), 2);
    expect(claimed).toEqual([messages[1], messages[0]]);
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
