import { describe, expect, it } from "vitest";
import { loginRetryAfterMs } from "../../src/domain/credentials/login-throttle.js";
import { SqliteLoginStore } from "../../src/store/sqlite-login-store.js";
import { SqliteUserStore } from "../../src/store/sqlite-user-store.js";
import { openTemp } from "./support/temp-database.js";
import { at, changeUser, machineAdded, userAdded } from "./support/user-changes.js";

async function storesWithUsers() {
  const handle = openTemp();
  const users = new SqliteUserStore(handle.db);
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
  return { ...handle, logins: new SqliteLoginStore(handle.db) };
}

const ids = (states: { id: string }[]) => states.map((state) => state.id).sort();

describe("SqliteLoginStore: users by login name", () => {
  it("finds users by username in every organization", async () => {
    const { logins } = await storesWithUsers();
    expect(ids(await logins.findByLoginName({ key: "ada", username: "ada" }))).toEqual(["m1", "u1"]);
    expect(ids(await logins.findByLoginName({ key: "Ada", username: "Ada" }))).toEqual([]);
  });

  it("finds users by verified phone or email only: a pending address is no login name", async () => {
    const { logins } = await storesWithUsers();
    const byPhone = (phone: string) => logins.findByLoginName({ key: phone, username: phone, phone });
    expect(ids(await byPhone("+41791234567"))).toEqual(["u1"]);
    expect(ids(await byPhone("+41781110002"))).toEqual([]);
    const email = "ada@example.com";
    expect(ids(await logins.findByLoginName({ key: email, username: email, email }))).toEqual(["u1"]);
  });
});

describe("SqliteLoginStore: failures per login name", () => {
  const row = (sqlite: ReturnType<typeof openTemp>["sqlite"]) =>
    sqlite.prepare("SELECT failures, last_failure_at AS lastFailureAt FROM login_failures WHERE login_name = 'ada'").get();

  it("counts each admitted attempt until cleared, and refuses without counting while the schedule says wait", async () => {
    const { logins, sqlite } = await storesWithUsers();
    for (let minute = 0; minute < 5; minute++) expect(await logins.admitAttempt("ada", at(minute), loginRetryAfterMs)).toBe(0);
    expect(row(sqlite)).toEqual({ failures: 5, lastFailureAt: at(4).getTime() });
    const early = new Date(at(4).getTime() + 400);
    expect(await logins.admitAttempt("ada", early, loginRetryAfterMs)).toBe(600);
    expect(row(sqlite)).toEqual({ failures: 5, lastFailureAt: at(4).getTime() });
    expect(await logins.admitAttempt("ada", at(5), loginRetryAfterMs)).toBe(0);
    expect(row(sqlite)).toEqual({ failures: 6, lastFailureAt: at(5).getTime() });

    await logins.clearFailures("ada");
    expect(row(sqlite)).toBeUndefined();
    expect(await logins.admitAttempt("ada", at(5), loginRetryAfterMs)).toBe(0);
  });

  it("shares the count between connections to one file", async () => {
    const { logins, path } = await storesWithUsers();
    const other = new SqliteLoginStore(openTemp(path).db);
    for (let i = 0; i < 5; i++) await (i % 2 ? logins : other).admitAttempt("ada", at(0), loginRetryAfterMs);
    expect(await other.admitAttempt("ada", at(0), loginRetryAfterMs)).toBe(1_000);
  });
});
