// Password logins against each dialect: users by login name (usernames, and verified addresses only), and the failure
// count per login name, checked and counted atomically even when connections (processes) guess at once.
import { describe, expect, it } from "vitest";
import { loginRetryAfterMs } from "../../src/domain/credentials/login-throttle.js";
import type { Dialect } from "../../src/store/stores.js";
import { type StoreHarness, dialects, openStoreHarness } from "./support/store-harness.js";
import { at, changeUser, machineAdded, userAdded } from "./support/user-changes.js";

async function storesWithUsers(dialect: Dialect) {
  const harness = await openStoreHarness(dialect);
  const { users } = harness.stores;
  // u1: phone +41791234567 verified, a change to +41781110002 pending, email verified. u2: phone pending only.
  const u1 = userAdded("u1", "ada");
  await users.append(u1);
  await users.append(
    changeUser(u1.next, [
      { type: "user.human.phone.verified", payload: { value: "+41791234567" } },
      { type: "user.human.phone.changed", payload: { value: "+41781110002" } },
      { type: "user.human.email.changed", payload: { value: "ada@example.com" } },
      { type: "user.human.email.verified", payload: { value: "ada@example.com" } },
    ]),
  );
  await users.append(userAdded("u2", "grace"));
  await users.append(machineAdded("m1", "ada", "org-2"));
  return { ...harness, logins: harness.stores.logins };
}

const ids = (states: { id: string }[]) => states.map((state) => state.id).sort();

describe.each(dialects)("%s login store: users by login name", (dialect) => {
  it("finds users by username in every organization, or in one", async () => {
    const { logins, stores } = await storesWithUsers(dialect);
    expect(ids(await logins.findByLoginName({ key: "ada", username: "ada" }))).toEqual(["m1", "u1"]);
    // The name as parseLoginName gives it, its ASCII letters in lower case, finds a username written in any case.
    await stores.users.append(userAdded("u3", "Grace.Hopper", "org-3"));
    expect(ids(await logins.findByLoginName({ key: "grace.hopper", username: "grace.hopper" }))).toEqual(["u3"]);
    expect(ids(await logins.findByLoginName({ key: "ada", username: "ada" }, "org-2"))).toEqual(["m1"]);
    expect(ids(await logins.findByLoginName({ key: "grace", username: "grace" }, "org-2"))).toEqual([]);
  });

  it("finds users by verified phone or email only: a pending address is no login name", async () => {
    const { logins } = await storesWithUsers(dialect);
    const byPhone = (phone: string) => logins.findByLoginName({ key: phone, username: phone, phone });
    expect(ids(await byPhone("+41791234567"))).toEqual(["u1"]);
    expect(ids(await byPhone("+41781110002"))).toEqual([]);
    const email = "ada@example.com";
    expect(ids(await logins.findByLoginName({ key: email, username: email, email }))).toEqual(["u1"]);
  });
});

describe.each(dialects)("%s login store: failures per login name", (dialect) => {
  /** The count of "ada", its time in milliseconds (a number in SQLite, a Date in PostgreSQL). */
  const row = async ({ rows }: StoreHarness) => {
    const [found] = await rows<{ failures: number; lastFailureAt: number | Date }>(
      `SELECT failures, last_failure_at AS "lastFailureAt" FROM login_failures WHERE login_name = 'ada'`,
    );
    return found && { failures: found.failures, lastFailureAt: new Date(found.lastFailureAt).getTime() };
  };

  it("counts each admitted attempt until cleared, and refuses without counting while the schedule says wait", async () => {
    const harness = await storesWithUsers(dialect);
    const { logins } = harness;
    for (let minute = 0; minute < 5; minute++) expect(await logins.admitAttempt("ada", at(minute), loginRetryAfterMs)).toBe(0);
    expect(await row(harness)).toEqual({ failures: 5, lastFailureAt: at(4).getTime() });
    const early = new Date(at(4).getTime() + 400);
    expect(await logins.admitAttempt("ada", early, loginRetryAfterMs)).toBe(600);
    expect(await row(harness)).toEqual({ failures: 5, lastFailureAt: at(4).getTime() });
    expect(await logins.admitAttempt("ada", at(5), loginRetryAfterMs)).toBe(0);
    expect(await row(harness)).toEqual({ failures: 6, lastFailureAt: at(5).getTime() });

    await logins.clearFailures("ada");
    expect(await row(harness)).toBeUndefined();
    expect(await logins.admitAttempt("ada", at(5), loginRetryAfterMs)).toBe(0);
  });

  it("forgets one admitted attempt, never below none, and leaves a cleared count cleared", async () => {
    const harness = await storesWithUsers(dialect);
    const { logins } = harness;
    for (let minute = 0; minute < 6; minute++) expect(await logins.admitAttempt("ada", at(minute), loginRetryAfterMs)).toBe(0);
    await logins.forgetAttempt("ada");
    expect(await row(harness)).toEqual({ failures: 5, lastFailureAt: at(5).getTime() });
    for (let i = 0; i < 6; i++) await logins.forgetAttempt("ada");
    expect(await row(harness)).toEqual({ failures: 0, lastFailureAt: at(5).getTime() });
    expect(await logins.admitAttempt("ada", at(5), loginRetryAfterMs)).toBe(0);
    expect(await row(harness)).toEqual({ failures: 1, lastFailureAt: at(5).getTime() });

    await logins.clearFailures("ada");
    await logins.forgetAttempt("ada");
    expect(await row(harness)).toBeUndefined();
  });

  it("forgets each attempt once when connections forget the same name at the same moment", async () => {
    const harness = await storesWithUsers(dialect);
    const others = await Promise.all([harness.reopen(), harness.reopen()]);
    const connections = [harness.logins, ...others.map((other) => other.stores.logins)];
    const admitAll = () => 0;
    for (let i = 0; i < 30; i++) await harness.logins.admitAttempt("ada", at(0), admitAll);
    await Promise.all(connections.flatMap((logins) => Array.from({ length: 8 }, () => logins.forgetAttempt("ada"))));
    expect(await row(harness)).toEqual({ failures: 6, lastFailureAt: at(0).getTime() });
  });

  it("hands the callback the count so far, and purges the names idle since a time", async () => {
    const { logins, count } = await storesWithUsers(dialect);
    const seen: unknown[] = [];
    const admitAll = (record: unknown) => {
      seen.push(record);
      return 0;
    };
    await logins.admitAttempt("ada", at(1), admitAll);
    await logins.admitAttempt("ada", at(2), admitAll);
    await logins.admitAttempt("grace", at(3), admitAll);
    expect(seen).toEqual([undefined, { failures: 1, lastFailureAt: at(1) }, undefined]);

    expect(await logins.purgeIdle(at(3))).toBe(1);
    expect(await count("login_failures")).toBe(1);
    expect(await logins.purgeIdle(at(3))).toBe(0);
    expect(await logins.purgeIdle(at(4))).toBe(1);
  });

  it("shares the count between connections to one database", async () => {
    const harness = await storesWithUsers(dialect);
    const other = (await harness.reopen()).stores.logins;
    for (let i = 0; i < 5; i++) await (i % 2 ? harness.logins : other).admitAttempt("ada", at(0), loginRetryAfterMs);
    expect(await other.admitAttempt("ada", at(0), loginRetryAfterMs)).toBe(1_000);
  });

  it("counts every attempt once when connections guess the same name at the same moment", async () => {
    const harness = await storesWithUsers(dialect);
    const others = await Promise.all([harness.reopen(), harness.reopen()]);
    const connections = [harness.logins, ...others.map((other) => other.stores.logins)];
    const admitAll = () => 0;
    await Promise.all(connections.flatMap((logins) => Array.from({ length: 10 }, () => logins.admitAttempt("ada", at(0), admitAll))));
    expect(await row(harness)).toEqual({ failures: 30, lastFailureAt: at(0).getTime() });

    // With the real schedule, of 12 guesses at one moment against a fresh name only the 5 free ones pass.
    await harness.logins.clearFailures("ada");
    const waits = await Promise.all(
      connections.flatMap((logins) => Array.from({ length: 4 }, () => logins.admitAttempt("ada", at(0), loginRetryAfterMs))),
    );
    expect(waits.filter((wait) => wait === 0)).toHaveLength(5);
    expect(await row(harness)).toEqual({ failures: 5, lastFailureAt: at(0).getTime() });
  });
});
