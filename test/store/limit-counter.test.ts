// The counts behind the limits, against SQLite and PostgreSQL: the `max`-th most recent action in the window decides,
// its age gives the exact wait, and each kind of key counts only its own actions. Then PostgreSQL's processes racing
// for the last free place of a limit, through the user store that checks and records in its transaction.
import { mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import Database from "better-sqlite3";
import { readMigrationFiles } from "drizzle-orm/migrator";
import pg from "pg";
import { describe, expect, it, onTestFinished } from "vitest";
import {
  type CountedAction,
  LimitReached,
  type LimitedAction,
  callerAndOrganizationRules,
  rulesFor,
} from "../../src/domain/limits/counted-action.js";
import type { Limits } from "../../src/domain/limits/limits.js";
import type { UserChange } from "../../src/domain/ports.js";
import { migrationsFolder as postgresMigrations, openPostgres } from "../../src/store/postgres/open-postgres.js";
import { PostgresLimitCounter } from "../../src/store/postgres/postgres-limit-counter.js";
import { inTransaction } from "../../src/store/postgres/pool-transaction.js";
import { SqliteLimitCounter } from "../../src/store/sqlite/sqlite-limit-counter.js";
import type { Dialect } from "../../src/store/stores.js";
import { dialects, openStoreHarness } from "./support/store-harness.js";
import { openTemp, tempDatabasePath } from "./support/temp-database.js";
import { createPostgresDatabase } from "../helpers/postgres-database.js";
import { at, changeUser, phoneCodeAdded, userAdded } from "./support/user-changes.js";
import { deleteInBatches } from "../../src/store/delete-in-batches.js";

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
const sqliteMigrations = join(import.meta.dirname, "..", "..", "src", "store", "sqlite", "migrations");

interface Counter {
  /** Checks and records, as the user store does in its transaction; the refusal, if any. */
  act(counted: CountedAction, at: number): Promise<LimitReached | undefined>;
  purge(before: Date): Promise<number>;
}

/** The dialect's counter under these limits on a new database (or the one given), in a transaction per action as the user store runs it. */
async function counter(dialect: Dialect, { database, applied = limits }: { database?: string; applied?: Limits } = {}): Promise<Counter> {
  database ??= (await openStoreHarness(dialect)).database;
  const refusal = (error: unknown) => {
    if (error instanceof LimitReached) return error;
    throw error;
  };
  const actionAt = (counted: CountedAction, at: number): LimitedAction => ({ counted, rules: rulesFor(counted, applied), at: new Date(at) });
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
      purge: (before) => deleteInBatches((limit) => counter.purgeBatch(before, limit)),
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
    purge: (before) => deleteInBatches((limit) => counter.purgeBatch(handle.db, before, limit)),
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

  it("finds the max-th most recent action however long its series, and after a purge", async () => {
    const { act, purge } = await counter(dialect, { applied: { ...limits, sendsPerCallerHour: 5 } });
    // Five per hour, one every 12 minutes: the window always holds four, so every send passes, fifty times over.
    const fivePerHour = (i: number) => ({ ...send(`u${i}`, `+4179000${String(i).padStart(4, "0")}`), callerId: "busy" });
    const minute = 60_000;
    for (let i = 0; i < 50; i++) expect(await act(fivePerHour(i), t0 + i * 12 * minute), `send ${i}`).toBeUndefined();
    const last = t0 + 49 * 12 * minute;
    // Six minutes after the last, the window holds five: the fifth most recent, 48 minutes before the last, decides.
    expect(await act(fivePerHour(50), last + 6 * minute)).toMatchObject({ rule: { name: "sends_per_caller_hour" }, retryAfterMs: 6 * minute });
    // The purge leaves the series with a gap below: the 45 sends more than 50 minutes before the last, each in four series.
    expect(await purge(new Date(last - 50 * minute))).toBe(45 * 4);
    expect(await act(fivePerHour(50), last + 12 * minute - 1)).toMatchObject({ retryAfterMs: 1 });
    expect(await act(fivePerHour(50), last + 12 * minute)).toBeUndefined();
  });

  it("carries the counted actions of a database from before the series into the same refusals", async () => {
    const now = t0 + 3_600_000;
    const database = await previousVersion(dialect, [
      // Two sends to one number and two verifications of one user, recorded by the version before.
      { action: "send", at: now - 30_000, userId: "a", destination: "+41790000001" },
      { action: "send", at: now - 20_000, userId: "b", destination: "+41790000001" },
      { action: "verify", at: now - 120_000, userId: "v" },
      { action: "verify", at: now - 60_000, userId: "v" },
    ]);
    const { act } = await counter(dialect, { database });
    expect(await act(send("c", "+41790000001"), now)).toMatchObject({ rule: { name: "sends_per_destination_10m" }, retryAfterMs: 10 * 60_000 - 30_000 });
    expect(await act(send("a", "+41790000002"), now)).toMatchObject({ rule: { name: "send_cooldown" }, retryAfterMs: 30_000 });
    const verify: CountedAction = { action: "verify", userId: "v", channel: "phone", organizationId: "org", callerId: "caller" };
    expect(await act(verify, now)).toMatchObject({ rule: { name: "verifications_per_user_hour" }, retryAfterMs: 3_600_000 - 120_000 });
    expect(await act(send("d", "+41790000003"), now)).toBeUndefined();
  });

  it("purges what is older than the given time, and nothing newer", async () => {
    const { act, purge } = await counter(dialect);
    await act(send("a", "+41790000001"), t0);
    await act(send("b", "+41790000002"), t0 + 5000);
    expect(await purge(new Date(t0 + 1)), "the first send in its four series").toBe(4);
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
    expect(await harness.count("limit_entries"), "its caller, organization, destination, user and channel").toBe(4);
    expect(await store.events("u1")).toHaveLength(2);
    expect(await store.purgeLimitEntries(at(2))).toBe(4);
  });

  it("writes nothing of a change whose second send is refused once its first is counted", async () => {
    const harness = await openStoreHarness(dialect);
    const store = harness.stores.users;
    const added = userAdded("u1", "ada");
    await store.append(added);
    const counted = send("u1", "+41791234567");
    const twice = { ...changeUser(added.next, [phoneCodeAdded(at(30))]), limited: [counted, counted].map((action) => ({ counted: action, rules: rulesFor(action, limits), at: at(1) })) };

    const refused = await store.append(twice).then(() => undefined, (error: unknown) => error);

    expect((refused as LimitReached).rule.name).toBe("send_cooldown");
    expect(await harness.count("limit_entries")).toBe(0);
    expect(await store.events("u1")).toEqual(added.events);
    expect(await store.load("u1")).toEqual(added.next);
  });

  it("counts actions that change no user in the series their sends count in: all of them, or, refused, none", async () => {
    const harness = await openStoreHarness(dialect);
    const store = harness.stores.users;
    const twoPerHour: Limits = { ...limits, sendsPerCallerHour: 2 };
    const counted = send("u1", "+41791234567");
    const charge = { rules: callerAndOrganizationRules(counted, twoPerHour), at: at(1) };
    await store.countActions([charge]);
    expect(await harness.count("limit_entries"), "its caller's and its organization's").toBe(2);

    const refused = await store.countActions([charge, charge]).then(() => undefined, (error: unknown) => error);

    expect(refused).toBeInstanceOf(LimitReached);
    expect(refused).toMatchObject({ rule: { name: "sends_per_caller_hour" }, retryAfterMs: 3_600_000 });
    expect(await harness.count("limit_entries"), "nothing of the two, though the first passed").toBe(2);
    await store.countActions([charge]);
    const sent = { ...userAdded("u1", "ada"), limited: [{ counted, rules: rulesFor(counted, twoPerHour), at: at(2) }] };
    const refusedSend = await store.append(sent).then(() => undefined, (error: unknown) => error);
    expect(refusedSend, "a send by the same caller").toMatchObject({ rule: { name: "sends_per_caller_hour" }, retryAfterMs: 3_600_000 - 60_000 });
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
    expect(await one.count("limit_entries")).toBe(10 * 4);
    expect(await one.count("events")).toBe(12);
  });
});

interface RecordedAction {
  action: "send" | "verify";
  at: number;
  userId: string;
  destination?: string;
}

/**
 * A database as the version before the series left it (every migration up to the one that replaced counted_actions),
 * holding these actions of organization "org" and caller "caller", each on the phone.
 */
async function previousVersion(dialect: Dialect, recorded: readonly RecordedAction[]): Promise<string> {
  const insert =
    "INSERT INTO counted_actions (action, at, user_id, channel, destination, organization_id, caller_id) VALUES ($1, $2, $3, 'phone', $4, 'org', 'caller')";
  const values = ({ action, at, userId, destination }: RecordedAction) => [action, at, userId, destination ?? null];
  if (dialect === "sqlite") {
    const path = tempDatabasePath();
    mkdirSync(dirname(path), { recursive: true });
    const previous = new Database(path);
    previous.exec('CREATE TABLE "__drizzle_migrations" (id SERIAL PRIMARY KEY, hash text NOT NULL, created_at numeric)');
    for (const migration of readMigrationFiles({ migrationsFolder: sqliteMigrations }).slice(0, 8)) {
      for (const statement of migration.sql) previous.exec(statement);
      previous.prepare('INSERT INTO "__drizzle_migrations" (hash, created_at) VALUES (?, ?)').run(migration.hash, migration.folderMillis);
    }
    for (const action of recorded) previous.prepare(insert.replace(/\$\d/g, "?")).run(...values(action));
    previous.close();
    return path;
  }
  const url = await createPostgresDatabase();
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query('CREATE SCHEMA drizzle; CREATE TABLE drizzle."__drizzle_migrations" (id SERIAL PRIMARY KEY, hash text NOT NULL, created_at bigint)');
    for (const migration of readMigrationFiles({ migrationsFolder: postgresMigrations }).slice(0, 1)) {
      for (const statement of migration.sql) await client.query(statement);
      await client.query('INSERT INTO drizzle."__drizzle_migrations" (hash, created_at) VALUES ($1, $2)', [migration.hash, migration.folderMillis]);
    }
    for (const action of recorded) {
      const [kind, at, ...rest] = values(action);
      await client.query(insert, [kind, new Date(at as number), ...rest]);
    }
  } finally {
    await client.end();
  }
  return url;
}
