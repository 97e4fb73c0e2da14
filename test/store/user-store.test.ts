// The user store's contract, against SQLite and PostgreSQL alike; then what only one of them has: SQLite's group
// commit, and PostgreSQL's writers in several processes (a second pool stands for another process).
import { describe, expect, it } from "vitest";
import { AppendConflict } from "../../src/domain/ports.js";
import type { HumanUserState, UserState } from "../../src/domain/user-state.js";
import { SqliteUserStore } from "../../src/store/sqlite/sqlite-user-store.js";
import { type StoreHarness, dialects, openStoreHarness } from "./support/store-harness.js";
import { openTemp } from "./support/temp-database.js";
import { at, changeUser, machineAdded, message, phoneCodeAdded, userAdded } from "./support/user-changes.js";

async function counts({ count }: StoreHarness) {
  return { events: await count("events"), users: await count("users"), outbox: await count("outbox") };
}

async function conflictOf(append: Promise<void>): Promise<AppendConflict["conflict"]> {
  const error = await append.then(() => undefined, (rejected: unknown) => rejected);
  expect(error).toBeInstanceOf(AppendConflict);
  return (error as AppendConflict).conflict;
}

describe.each(dialects)("%s user store", (dialect) => {
  it("loads exactly the state it appended, dates included, and returns the events in order", async () => {
    const { users: store } = (await openStoreHarness(dialect)).stores;
    const added = userAdded("u1", "ada");
    await store.append(added);
    const failed = changeUser(added.next, [
      phoneCodeAdded(at(30)),
      { type: "user.human.phone.verification.failed", payload: { reason: "INVALID_VERIFICATION_CODE" } },
      { type: "user.human.email.changed", payload: { value: "ada@example.com" } },
    ]);
    await store.append(failed);

    const loaded = (await store.load("u1")) as HumanUserState;
    expect(loaded).toEqual(failed.next);
    expect(loaded?.phone.code?.expiresAt).toEqual(at(30));
    expect(loaded?.phone.lastFailureAt).toBeInstanceOf(Date);
    expect(await store.events("u1")).toEqual([...added.events, ...failed.events]);
  });

  it("knows no user it never stored", async () => {
    const { users: store } = (await openStoreHarness(dialect)).stores;
    expect(await store.load("nobody")).toBeUndefined();
    expect(await store.events("nobody")).toEqual([]);
  });

  it("rejects the second of two changes decided on the same sequence and keeps only the first", async () => {
    const harness = await openStoreHarness(dialect);
    const store = harness.stores.users;
    const added = userAdded("u1", "ada");
    await store.append(added);
    const first = changeUser(added.next, [phoneCodeAdded(at(30))], [message("m1", "u1", at(2), at(30))]);
    const second = changeUser(added.next, [phoneCodeAdded(at(40))], [message("m2", "u1", at(2), at(40))]);
    await store.append(first);

    expect(await conflictOf(store.append(second))).toBe("sequence");
    expect(await store.load("u1")).toEqual(first.next);
    expect(await store.events("u1")).toEqual([...added.events, ...first.events]);
    expect(await counts(harness)).toEqual({ events: 2, users: 1, outbox: 1 });
  });

  it("rejects a new user whose username is taken in the organization, writing nothing of it", async () => {
    const harness = await openStoreHarness(dialect);
    const store = harness.stores.users;
    await store.append(userAdded("u1", "ada"));
    const duplicate = userAdded("u2", "ada");

    expect(await conflictOf(store.append({ ...duplicate, outbox: [message("m1", "u2", at(1), at(30))] }))).toBe(
      "username",
    );
    expect(await store.load("u2")).toBeUndefined();
    expect(await store.events("u2")).toEqual([]);
    expect(await counts(harness)).toEqual({ events: 1, users: 1, outbox: 0 });
  });

  it("takes usernames that differ only in the case of ASCII letters for one, and others for distinct ones", async () => {
    const { users: store } = (await openStoreHarness(dialect)).stores;
    await store.append(userAdded("u1", "Ada.Lovelace"));
    expect(await conflictOf(store.append(userAdded("u2", "ADA.lovelace")))).toBe("username");
    // Beyond ASCII, letters are told apart as written; a look-alike of another script is another name.
    await store.append(userAdded("u3", "ödegård"));
    await store.append(userAdded("u4", "Ödegård"));
    await store.append(userAdded("u5", "\u0430da.lovelace"));
    expect((await store.load("u5"))?.username).toBe("\u0430da.lovelace");
  });

  it("accepts the same username in another organization", async () => {
    const { users: store } = (await openStoreHarness(dialect)).stores;
    await store.append(userAdded("u1", "ada", "org-1"));
    await store.append(userAdded("u2", "ada", "org-2"));
    expect((await store.load("u2"))?.resourceOwner).toBe("org-2");
  });

  it("rejects verifying a contact another user of the organization has verified", async () => {
    const harness = await openStoreHarness(dialect);
    const store = harness.stores.users;
    const ada = userAdded("u1", "ada");
    const bob = userAdded("u2", "bob");
    await store.append(ada);
    await store.append(bob);
    await store.append(
      changeUser(ada.next, [
        { type: "user.human.phone.verified", payload: { value: "+41791234567" } },
        { type: "user.human.email.changed", payload: { value: "ada@example.com" } },
        { type: "user.human.email.verified", payload: { value: "ada@example.com" } },
      ]),
    );

    const phone = changeUser(bob.next, [{ type: "user.human.phone.verified", payload: { value: "+41791234567" } }]);
    expect(await conflictOf(store.append(phone))).toBe("phone-in-use");
    const email = changeUser(bob.next, [
      { type: "user.human.email.changed", payload: { value: "ada@example.com" } },
      { type: "user.human.email.verified", payload: { value: "ada@example.com" } },
    ]);
    expect(await conflictOf(store.append(email))).toBe("email-in-use");
    expect(await store.load("u2")).toEqual(bob.next);
    expect(await counts(harness)).toEqual({ events: 5, users: 2, outbox: 0 });
  });

  it("writes nothing when the last write of an append fails", async () => {
    const harness = await openStoreHarness(dialect);
    const store = harness.stores.users;
    const added = userAdded("u1", "ada");
    await store.append({ ...added, outbox: [message("m1", "u1", at(1), at(30))] });
    // Reusing an outbox id fails only after the events and the projection were written.
    const failing = changeUser(added.next, [phoneCodeAdded(at(30))], [message("m1", "u1", at(2), at(30))]);

    await expect(store.append(failing)).rejects.toThrow();
    expect(await store.load("u1")).toEqual(added.next);
    expect(await store.events("u1")).toEqual(added.events);
    expect(await counts(harness)).toEqual({ events: 1, users: 1, outbox: 1 });
  });

  it("erases a user in one go: its events, its row, its tokens, its roles and its messages; nobody else's", async () => {
    const harness = await openStoreHarness(dialect);
    const { users: store, tokens, members } = harness.stores;
    const erased = userAdded("u1", "ada");
    const kept = userAdded("u2", "grace", "org-1", { phone: "+41797654321" });
    for (const added of [erased, kept]) {
      const userId = added.userId;
      await store.append(added);
      await store.append(changeUser(added.next, [phoneCodeAdded(at(30))], [message(`m-${userId}`, userId, at(2), at(30))]));
      await tokens.add({ id: `t-${userId}`, userId, kind: "login", createdAt: at(1), expiresAt: at(90), tokenHash: `hash-${userId}` });
      await members.add({ userId, organizationId: "org-1", roles: ["ORG_USER_VIEWER"], createdAt: at(1), changedAt: at(1) });
    }

    await store.erase("u1", 2);

    expect(await store.load("u1")).toBeUndefined();
    expect(await store.events("u1")).toEqual([]);
    expect(await tokens.findValid("hash-u1", at(10))).toBeUndefined();
    expect(await members.grantsOf("u1")).toEqual(await members.grantsOf("nobody"));
    expect(await harness.rows("SELECT id FROM outbox")).toEqual([{ id: "m-u2" }]);
    expect(await counts(harness)).toEqual({ events: 2, users: 1, outbox: 1 });
    expect((await store.load("u2"))?.sequence).toBe(2);
    expect((await tokens.findValid("hash-u2", at(10)))?.userId).toBe("u2");
    expect((await members.list(["org-1"])).map((member) => member.userId)).toEqual(["u2"]);
  });

  it("erases nothing of a user changed since the sequence the erasure was decided on, nor of a user it does not know", async () => {
    const harness = await openStoreHarness(dialect);
    const store = harness.stores.users;
    const added = userAdded("u1", "ada");
    await store.append(added);
    await store.append(changeUser(added.next, [phoneCodeAdded(at(30))]));

    expect(await conflictOf(store.erase("u1", 1))).toBe("sequence");
    expect(await conflictOf(store.erase("nobody", 1))).toBe("sequence");
    expect((await store.load("u1"))?.sequence).toBe(2);
    expect(await counts(harness)).toEqual({ events: 2, users: 1, outbox: 0 });
  });

  it("lets a new user take an erased user's id, username and verified phone, from a fresh stream", async () => {
    const { users: store } = (await openStoreHarness(dialect)).stores;
    const first = userAdded("u1", "ada");
    await store.append(first);
    await store.append(changeUser(first.next, [{ type: "user.human.phone.verified", payload: { value: "+41791234567" } }]));
    await store.erase("u1", 2);

    const again = userAdded("u1", "ada");
    await store.append(again);
    await store.append(changeUser(again.next, [{ type: "user.human.phone.verified", payload: { value: "+41791234567" } }]));
    expect((await store.events("u1")).map((event) => event.sequence)).toEqual([1, 2]);
  });

  it("writes a refusal's security outcomes with the change that records it, coalescing a repeat, and neither when it conflicts", async () => {
    const harness = await openStoreHarness(dialect);
    const { users: store, securityLog } = harness.stores;
    const added = userAdded("u1", "ada");
    await store.append(added);
    const wrongCode = { kind: "code.failed", actorId: "admin", userId: "u1", detail: { channel: "phone" } } as const;
    const failedAttempt = (state: UserState, minute: number) => ({
      ...changeUser(state, [{ type: "user.human.phone.verification.failed", payload: { reason: "INVALID_VERIFICATION_CODE" } }]),
      securityEvents: [{ event: wrongCode, at: at(minute) }],
    });
    const first = failedAttempt(added.next, 1);
    await store.append(first);
    await store.append(failedAttempt(first.next, 1));
    // Decided on a stale state: neither the attempt nor its outcome is written.
    expect(await conflictOf(store.append(failedAttempt(first.next, 1)))).toBe("sequence");

    expect(await store.events("u1")).toHaveLength(3);
    const { events } = await securityLog.list({ offset: 0, limit: 10 });
    expect(events).toEqual([expect.objectContaining({ ...wrongCode, at: at(1), lastAt: at(1), count: 2 })]);
  });

  it("shares one database between two connections: each sees the other's appends and stale changes conflict", async () => {
    const one = await openStoreHarness(dialect);
    const two = await one.reopen();
    const storeOne = one.stores.users;
    const storeTwo = two.stores.users;
    const added = userAdded("u1", "ada");
    await storeOne.append(added);

    const seenByTwo = await storeTwo.load("u1");
    expect(seenByTwo).toEqual(added.next);
    await storeOne.append(changeUser(added.next, [phoneCodeAdded(at(30))]));

    const stale = changeUser(seenByTwo!, [phoneCodeAdded(at(40))]);
    expect(await conflictOf(storeTwo.append(stale))).toBe("sequence");
    expect(await storeOne.load("u1")).toEqual(await storeTwo.load("u1"));
    expect(await storeTwo.events("u1")).toHaveLength(2);
  });

  it("copies kind, status and only verified contacts into the lookup columns: a pending change keeps the verified one", async () => {
    const harness = await openStoreHarness(dialect);
    const store = harness.stores.users;
    const lookup = async () => (await harness.rows("SELECT kind, status, verified_phone, verified_email FROM users WHERE id = 'u1'"))[0];
    const added = userAdded("u1", "ada");
    await store.append(added);
    expect(await lookup()).toEqual({ kind: "human", status: "active", verified_phone: null, verified_email: null });

    const verified = changeUser(added.next, [{ type: "user.human.phone.verified", payload: { value: "+41791234567" } }]);
    await store.append(verified);
    const changing = changeUser(verified.next, [
      { type: "user.human.phone.changed", payload: { value: "+41781110002" } },
      { type: "user.human.email.changed", payload: { value: "ada@example.com" } },
      { type: "user.locked", payload: {} },
    ]);
    await store.append(changing);
    expect(await lookup()).toEqual({ kind: "human", status: "locked", verified_phone: "+41791234567", verified_email: null });

    await store.append(changeUser(changing.next, [{ type: "user.human.phone.verified", payload: { value: "+41781110002" } }]));
    expect(await lookup()).toMatchObject({ verified_phone: "+41781110002" });
  });

  it("stores service accounts, without login contacts", async () => {
    const harness = await openStoreHarness(dialect);
    const store = harness.stores.users;
    const added = machineAdded("m1", "bot");
    await store.append(added);
    expect(await store.load("m1")).toEqual(added.next);
    expect(await harness.rows("SELECT kind, status, verified_phone, verified_email FROM users")).toEqual([
      { kind: "machine", status: "active", verified_phone: null, verified_email: null },
    ]);
  });

  it("reads a state stored before kinds and statuses existed as an active person", async () => {
    const harness = await openStoreHarness(dialect);
    const store = harness.stores.users;
    const added = userAdded("u1", "ada");
    await store.append(added);
    // SQLite keeps the state as text, PostgreSQL as jsonb, which arrives parsed.
    const [{ state }] = (await harness.rows<{ state: unknown }>("SELECT state FROM users")) as [{ state: unknown }];
    const { kind: _kind, status: _status, ...before } = (typeof state === "string" ? JSON.parse(state) : state) as Record<string, unknown>;
    // RETURNING: the harness runs statements that return rows.
    await harness.rows("UPDATE users SET state = $1 RETURNING id", [JSON.stringify(before)]);
    expect(await store.load("u1")).toEqual(added.next);
  });

  it("writes a state's dates as milliseconds, and reads the ISO strings of states written before as the same dates", async () => {
    const harness = await openStoreHarness(dialect);
    const store = harness.stores.users;
    const added = userAdded("u1", "ada");
    await store.append(added);
    const failed = changeUser(added.next, [
      phoneCodeAdded(at(30)),
      { type: "user.human.phone.verification.failed", payload: { reason: "INVALID_VERIFICATION_CODE" } },
    ]);
    await store.append(failed);
    const [{ state }] = (await harness.rows<{ state: unknown }>("SELECT state FROM users")) as [{ state: unknown }];
    const stored = (typeof state === "string" ? JSON.parse(state) : state) as Record<string, unknown>;
    const next = failed.next as HumanUserState;
    expect(stored).toMatchObject({
      createdAt: next.createdAt.getTime(),
      changedAt: next.changedAt.getTime(),
      phone: { code: { expiresAt: at(30).getTime() }, lastFailureAt: next.phone.lastFailureAt?.getTime() },
    });
    // As JSON.stringify wrote it until 2026-11-27: Date#toJSON's ISO strings.
    await harness.rows("UPDATE users SET state = $1 RETURNING id", [JSON.stringify(next)]);
    expect(await store.load("u1")).toEqual(next);
  });

  it("keeps the fields of a state that a newer verifyd wrote when it changes and writes that state back", async () => {
    const harness = await openStoreHarness(dialect);
    const store = harness.stores.users;
    await store.append(userAdded("u1", "ada"));
    const [{ state }] = (await harness.rows<{ state: unknown }>("SELECT state FROM users")) as [{ state: unknown }];
    const stored = (typeof state === "string" ? JSON.parse(state) : state) as Record<string, Record<string, unknown>>;
    const newer = { ...stored, passkeys: [{ id: "pk1" }], phone: { ...stored.phone, carrier: "swisscom" } };
    await harness.rows("UPDATE users SET state = $1 RETURNING id", [JSON.stringify(newer)]);

    const loaded = await store.load("u1");
    if (!loaded) throw new Error("u1 was not loaded");
    await store.append(changeUser(loaded, [phoneCodeAdded(at(30))]));

    const [{ state: after }] = (await harness.rows<{ state: unknown }>("SELECT state FROM users")) as [{ state: unknown }];
    expect(typeof after === "string" ? JSON.parse(after) : after).toMatchObject({
      passkeys: [{ id: "pk1" }],
      phone: { carrier: "swisscom", code: { expiresAt: at(30).getTime() } },
    });
  });
});

describe("SQLite user store only: group commit", () => {
  it("commits appends handed in together in one transaction, where a failing one undoes only itself", async () => {
    const harness = await openStoreHarness("sqlite");
    const store = harness.stores.users;
    const ada = userAdded("u1", "ada");
    const bob = userAdded("u2", "bob");
    await Promise.all([store.append(ada), store.append(bob)]);

    const adaFirst = changeUser(ada.next, [phoneCodeAdded(at(30))], [message("m1", "u1", at(2), at(30))]);
    const adaStale = changeUser(ada.next, [phoneCodeAdded(at(40))], [message("m2", "u1", at(2), at(40))]);
    const bobTaken = { ...userAdded("u3", "bob"), outbox: [message("m3", "u3", at(1), at(30))] };
    const bobNext = changeUser(bob.next, [phoneCodeAdded(at(30))]);
    const outcomes = await Promise.allSettled([
      store.append(adaFirst),
      store.append(adaStale),
      store.append(bobTaken),
      store.append(bobNext),
    ]);

    expect(outcomes.map((outcome) => outcome.status)).toEqual(["fulfilled", "rejected", "rejected", "fulfilled"]);
    expect(await conflictOf(Promise.reject((outcomes[1] as PromiseRejectedResult).reason))).toBe("sequence");
    expect(await conflictOf(Promise.reject((outcomes[2] as PromiseRejectedResult).reason))).toBe("username");
    expect(await store.load("u1")).toEqual(adaFirst.next);
    expect(await store.load("u2")).toEqual(bobNext.next);
    expect(await store.load("u3")).toBeUndefined();
    expect(await counts(harness)).toEqual({ events: 4, users: 2, outbox: 1 });
  });

  it("undoes alone an append that fails after it wrote, and commits the others handed in with it", async () => {
    const harness = await openStoreHarness("sqlite");
    const store = harness.stores.users;
    const bob = userAdded("u2", "bob");
    await store.append(bob);
    const ada = { ...userAdded("u1", "ada"), outbox: [message("m1", "u1", at(1), at(30))] };
    // Its outbox id is taken by the append before it: it fails only after its row and event were written.
    const cy = { ...userAdded("u3", "cy"), outbox: [message("m1", "u3", at(1), at(30))] };
    const bobNext = changeUser(bob.next, [phoneCodeAdded(at(30))]);

    const outcomes = await Promise.allSettled([store.append(ada), store.append(cy), store.append(bobNext)]);

    expect(outcomes.map((outcome) => outcome.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
    expect(await store.load("u1")).toEqual(ada.next);
    expect(await store.load("u3")).toBeUndefined();
    expect(await store.events("u3")).toEqual([]);
    expect(await store.load("u2")).toEqual(bobNext.next);
    expect(await counts(harness)).toEqual({ events: 3, users: 2, outbox: 1 });
  });

  it("acknowledges none of the appends handed in together when their commit fails", async () => {
    const { db, sqlite, path } = openTemp();
    const store = new SqliteUserStore(db);
    const ada = userAdded("u1", "ada");
    await store.append(ada);
    // Another connection holds the write lock past the busy timeout: the commit cannot start.
    const other = openTemp(path);
    other.sqlite.pragma("busy_timeout = 0");
    sqlite.pragma("busy_timeout = 0");
    other.sqlite.prepare("BEGIN IMMEDIATE").run();

    const outcomes = await Promise.allSettled([
      store.append(changeUser(ada.next, [phoneCodeAdded(at(30))])),
      store.append(userAdded("u2", "bob")),
    ]);
    other.sqlite.prepare("ROLLBACK").run();

    expect(outcomes.map((outcome) => outcome.status)).toEqual(["rejected", "rejected"]);
    expect(await store.load("u1")).toEqual(ada.next);
    const count = (table: string) => (sqlite.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
    expect({ events: count("events"), users: count("users"), outbox: count("outbox") }).toEqual({ events: 1, users: 1, outbox: 0 });
  });
});

describe("PostgreSQL user store only: writers in several processes", () => {
  it("lets exactly one of two appends decided on the same sequence, from two connections at once, succeed", async () => {
    const one = await openStoreHarness("postgres");
    const two = await one.reopen();
    const added = userAdded("u1", "ada");
    await one.stores.users.append(added);
    let state = added.next;
    for (let round = 0; round < 10; round++) {
      const changes = [one, two].map((harness, n) =>
        harness.stores.users.append(changeUser(state, [phoneCodeAdded(at(30 + n))], [message(`m${round}-${n}`, "u1", at(2), at(30))])),
      );
      const outcomes = await Promise.allSettled(changes);
      expect(outcomes.filter((outcome) => outcome.status === "fulfilled")).toHaveLength(1);
      const [rejected] = outcomes.filter((outcome): outcome is PromiseRejectedResult => outcome.status === "rejected");
      expect(await conflictOf(Promise.reject(rejected!.reason))).toBe("sequence");
      state = (await two.stores.users.load("u1"))!;
      expect(state.sequence).toBe(round + 2);
    }
    expect(await counts(one)).toEqual({ events: 11, users: 1, outbox: 10 });
  });

  it("lets exactly one of two connections creating the same user at once succeed", async () => {
    const one = await openStoreHarness("postgres");
    const two = await one.reopen();
    for (let round = 0; round < 10; round++) {
      const outcomes = await Promise.allSettled([
        one.stores.users.append(userAdded(`u${round}`, `ada${round}`)),
        two.stores.users.append(userAdded(`u${round}`, `bob${round}`)),
      ]);
      expect(outcomes.filter((outcome) => outcome.status === "fulfilled")).toHaveLength(1);
      const [rejected] = outcomes.filter((outcome): outcome is PromiseRejectedResult => outcome.status === "rejected");
      expect(await conflictOf(Promise.reject(rejected!.reason))).toBe("sequence");
    }
    expect(await counts(one)).toEqual({ events: 10, users: 10, outbox: 0 });
  });
});
