// The counts behind the limits, against SQLite and PostgreSQL: the `max`-th most recent action in the window decides,
// its age gives the exact wait, and each kind of key counts only its own actions. Then PostgreSQL's processes racing
// for the last free place of a limit, through the user store that checks and records in its transaction.
import { describe, expect, it, onTestFinished } from "vitest";
import { type CountedAction, LimitReached, type LimitedAction, rulesFor } from "../../src/domain/limits/counted-action.js";
import type { Limits } from "../../src/domain/limits/limits.js";
import type { UserChange } from "../../src/domain/ports.js";
import { openPostgres } from "../../src/store/postgres/open-postgres.js";
import { PostgresLimitCounter } from "../../src/store/postgres/postgres-limit-counter.js";
import { inTransaction } from "../../src/store/postgres/pool-transaction.js";
import { SqliteLimitCounter } from "../../src/store/sqlite/sqlite-limit-counter.js";
import type { Dialect } from "../../src/store/stores.js";
import { dialects, openStoreHarness } from "./support/store-harness.js";
import { openTemp } from "./support/temp-database.js";
import { at, changeUser, phoneCodeAdded, userAdded } from "./support/user-changes.js";

const limits: Limits = {
  sendCooldownMs: 60_000,
  sendsPerDestinationShort: 2,
  sendsPerDestinationDay: 3,
  sendsPerOrganizationHour: 100,
  sendsPerCallerHour: 100,
  verificationsPerUserHour: 2,
};
const send = (userId: string, destination: string): CountedAction => ({
  action: "send",
  userId,
  channel: "phone",
  destination,
  organizationId: "org",
  callerId: "caller",
});
const t0 = Date.UTC(2026, 10, 25, 12, 0, 0);

interface Counter {
  /** Checks and records, as the user store does in its transaction; the refusal, if any. */
  act(counted: CountedAction, at: number): Promise<LimitReached | undefined>;
  purge(before: Date): Promise<number>;
}

/** The dialect's counter on a new database, in a transaction per action as the user store runs it. */
async function counter(dialect: Dialect): Promise<Counter> {
  const { database } = await openStoreHarness(dialect);
  const refusal = (error: unknown) => {
    if (error instanceof LimitReached) return error;
    throw error;
  };
  const actionAt = (counted: CountedAction, at: number): LimitedAction => ({ counted, rules: rulesFor(counted, limits), at: new Date(at) });
  if (dialect === "sqlite") {
    const { db, sqlite } = openTemp(database);
    const counter = new SqliteLimitCounter(db);
    const checkAndRecord = sqlite.transaction((action: LimitedAction) => {
      counter.check(action);
      counter.record(action);
    });
    return {
      act: async (counted, at) => {
        try {
          checkAndRecord(actionAt(counted, at));
        } catch (error) {
          return refusal(error);
        }
        return undefined;
      },
      purge: async (before) => counter.purge(before),
    };
  }
  const handle = await openPostgres(database);
  onTestFinished(() => handle.close());
  const counter = new PostgresLimitCounter();
  return {
    act: (counted, at) =>
      inTransaction(handle.db.$client, async (tx) => {
        const action = actionAt(counted, at);
        await counter.lock(tx, [action]);
        await counter.check(tx, action);
        await counter.record(tx, action);
      }).then(() => undefined, refusal),
    purge: (before) => counter.purge(handle.db, before),
  };
}

describe.each(dialects)("%s limit counter", (dialect) => {
  it("refuses the action past a limit with the exact wait, and admits it once the oldest counted one left the window", async () => {
    const { act } = await counter(dialect);
    expect(await act(send("a", "+41790000001"), t0)).toBeUndefined();
    expect(await act(send("b", "+41790000001"), t0 + 1000)).toBeUndefined();
    const refused = await act(send("c", "+41790000001"), t0 + 2000);
    expect(refused?.rule.name).toBe("sends_per_destination_10m");
    expect(refused?.retryAfterMs).toBe(10 * 60_000 - 2000);
    expect((await act(send("c", "+41790000001"), t0 + 10 * 60_000 - 1))?.retryAfterMs).toBe(1);
    expect(await act(send("c", "+41790000001"), t0 + 10 * 60_000)).toBeUndefined();
    // The day's third is the last: the day limit answers with the first send's age.
    expect((await act(send("d", "+41790000001"), t0 + 20 * 60_000))?.rule.name).toBe("sends_per_destination_day");
  });

  it("keeps the cooldown per user and channel, and counts sends and verifications apart", async () => {
    const { act } = await counter(dialect);
    expect(await act(send("a", "+41790000001"), t0)).toBeUndefined();
    expect((await act(send("a", "+41790000002"), t0 + 1000))?.rule.name).toBe("send_cooldown");
    expect(await act({ ...send("a", "a@example.com"), channel: "email" }, t0 + 1000)).toBeUndefined();
    const verify: CountedAction = { action: "verify", userId: "a", channel: "phone", organizationId: "org", callerId: "caller" };
    expect(await act(verify, t0 + 2000)).toBeUndefined();
    expect(await act(verify, t0 + 3000)).toBeUndefined();
    expect(await act(verify, t0 + 4000)).toMatchObject({ rule: { name: "verifications_per_user_hour" }, retryAfterMs: 3_600_000 - 2000 });
  });

  it("purges what is older than the given time, and nothing newer", async () => {
    const { act, purge } = await counter(dialect);
    await act(send("a", "+41790000001"), t0);
    await act(send("b", "+41790000002"), t0 + 5000);
    expect(await purge(new Date(t0 + 1))).toBe(1);
    expect((await act(send("b", "+41790000002"), t0 + 6000))?.rule.name).toBe("send_cooldown");
  });

  it("checks and records limits in the append, and writes nothing of a refused change", async () => {
    const harness = await openStoreHarness(dialect);
    const store = harness.stores.users;
    const added = userAdded("u1", "ada");
    await store.append(added);
    const codeSent = async (): Promise<UserChange> => {
      const counted = send("u1", "+41791234567");
      const change = changeUser((await store.load("u1"))!, [phoneCodeAdded(at(30))]);
      return { ...change, limited: [{ counted, rules: rulesFor(counted, limits), at: at(1) }] };
    };
    await store.append(await codeSent());
    const refused = await store.append(await codeSent()).then(() => undefined, (error: unknown) => error);

    expect(refused).toBeInstanceOf(LimitReached);
    expect((refused as LimitReached).rule.name).toBe("send_cooldown");
    expect(await harness.count("counted_actions")).toBe(1);
    expect(await store.events("u1")).toHaveLength(2);
    expect(await store.purgeCountedActions(at(2))).toBe(1);
  });
});

describe("PostgreSQL limit counter only: processes racing for the last free place", () => {
  it("lets exactly one of two connections take the last send to a destination", async () => {
    const one = await openStoreHarness("postgres");
    const two = await one.reopen();
    const ada = userAdded("ada", "ada");
    const bob = userAdded("bob", "bob");
    await one.stores.users.append(ada);
    await one.stores.users.append(bob);
    // One send per destination in ten minutes, and no cooldown: only the destination's limit stands between the two.
    const oneSend: Limits = { ...limits, sendCooldownMs: 0, sendsPerDestinationShort: 1 };
    const sendsTo = (change: UserChange, destination: string, minute: number) => {
      const counted = send(change.userId, destination);
      return { counted, rules: rulesFor(counted, oneSend), at: at(minute) };
    };
    const states = { ada: ada.next, bob: bob.next };
    for (let round = 0; round < 10; round++) {
      const destination = `+4179000000${round}`;
      const outcomes = await Promise.allSettled(
        ([[one, "ada"], [two, "bob"]] as const).map(([harness, name]) => {
          const change = changeUser(states[name], [phoneCodeAdded(at(40))]);
          return harness.stores.users.append({ ...change, limited: [sendsTo(change, destination, round)] });
        }),
      );

      expect(outcomes.filter((outcome) => outcome.status === "fulfilled")).toHaveLength(1);
      const [refused] = outcomes.filter((outcome): outcome is PromiseRejectedResult => outcome.status === "rejected");
      expect(refused?.reason).toBeInstanceOf(LimitReached);
      expect((refused?.reason as LimitReached).rule.name).toBe("sends_per_destination_10m");
      states.ada = (await one.stores.users.load("ada"))!;
      states.bob = (await one.stores.users.load("bob"))!;
    }
    expect(await one.count("counted_actions")).toBe(10);
    expect(await one.count("events")).toBe(12);
  });
});
