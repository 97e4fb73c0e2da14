// The security log against each dialect: what it keeps of an outcome, how repeats coalesce (within a window, across
// connections and processes recording at once), and how it lists and purges.
import { execFile } from "node:child_process";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import type { SecurityEventInput } from "../../src/domain/security/security-event.js";
import type { Dialect } from "../../src/store/stores.js";
import { purgeBatchRows } from "../../src/store/delete-in-batches.js";
import { type StoreHarness, dialects, openStoreHarness } from "./support/store-harness.js";
import { openTemp } from "./support/temp-database.js";
import { at } from "./support/user-changes.js";

const seconds = (minute: number, second: number) => new Date(at(minute).getTime() + second * 1000);

const wrongPassword: SecurityEventInput = {
  kind: "login.failed",
  clientAddress: "192.0.2.1",
  userId: "u1",
  detail: { loginName: "ada", reason: "PASSWORD_INVALID" },
};

async function logWithDatabase(dialect: Dialect) {
  const harness = await openStoreHarness(dialect);
  return { ...harness, log: harness.stores.securityLog };
}

/** The entries' times in milliseconds (numbers in SQLite, Dates in PostgreSQL) and counts, oldest entry first. */
async function entries({ rows }: Pick<StoreHarness, "rows">) {
  const found = await rows<{ at: number | Date; lastAt: number | Date; count: number }>(
    `SELECT at, last_at AS "lastAt", count FROM security_events ORDER BY id`,
  );
  return found.map((row) => ({ at: new Date(row.at).getTime(), lastAt: new Date(row.lastAt).getTime(), count: row.count }));
}

describe.each(dialects)("%s security log: recording", (dialect) => {
  it("keeps everything recorded about an outcome, and when it happened", async () => {
    const { log } = await logWithDatabase(dialect);
    await log.record({ ...wrongPassword, actorId: "admin", organizationId: "org-1" }, at(0));
    const { total, events } = await log.list({ offset: 0, limit: 10 });
    expect(total).toBe(1);
    expect(events).toEqual([
      {
        id: expect.any(String),
        kind: "login.failed",
        actorId: "admin",
        clientAddress: "192.0.2.1",
        userId: "u1",
        organizationId: "org-1",
        detail: { loginName: "ada", reason: "PASSWORD_INVALID" },
        at: at(0),
        lastAt: at(0),
        count: 1,
      },
    ]);
  });

  it("counts repeats within the window on one entry, which slides with each repeat", async () => {
    const harness = await logWithDatabase(dialect);
    const { log } = harness;
    await log.record(wrongPassword, seconds(0, 0));
    await log.record(wrongPassword, seconds(0, 59));
    // Within a minute of the last repeat, though two minutes after the first.
    await log.record(wrongPassword, seconds(1, 58));
    expect(await entries(harness)).toEqual([{ at: seconds(0, 0).getTime(), lastAt: seconds(1, 58).getTime(), count: 3 }]);

    await log.record(wrongPassword, seconds(3, 0));
    expect(await entries(harness)).toHaveLength(2);
  });

  it("honours a window of the caller's choice", async () => {
    const harness = await logWithDatabase(dialect);
    const { log } = harness;
    await log.record(wrongPassword, seconds(0, 0), 5_000);
    await log.record(wrongPassword, seconds(0, 5), 5_000);
    await log.record(wrongPassword, seconds(0, 11), 5_000);
    expect(await entries(harness)).toEqual([
      { at: seconds(0, 0).getTime(), lastAt: seconds(0, 5).getTime(), count: 2 },
      { at: seconds(0, 11).getTime(), lastAt: seconds(0, 11).getTime(), count: 1 },
    ]);
  });

  it("keeps outcomes apart that differ in anything but time", async () => {
    const harness = await logWithDatabase(dialect);
    const { log } = harness;
    const variants: SecurityEventInput[] = [
      wrongPassword,
      { ...wrongPassword, kind: "limit.reached" },
      { ...wrongPassword, actorId: "admin" },
      { ...wrongPassword, clientAddress: "192.0.2.2" },
      { ...wrongPassword, userId: "u2" },
      { ...wrongPassword, organizationId: "org-1" },
      { ...wrongPassword, detail: { loginName: "ada", reason: "USER_DISABLED" } },
      { ...wrongPassword, detail: { loginName: "ada" } },
    ];
    for (const variant of variants) await log.record(variant, at(0));
    // The same detail in another order is the same outcome.
    await log.record({ ...wrongPassword, detail: { reason: "PASSWORD_INVALID", loginName: "ada" } }, at(0));
    expect((await entries(harness)).map((row) => row.count)).toEqual([2, 1, 1, 1, 1, 1, 1, 1]);
  });

  it("never moves an entry's last occurrence back when the clock is set back", async () => {
    const harness = await logWithDatabase(dialect);
    const { log } = harness;
    await log.record(wrongPassword, seconds(0, 30));
    await log.record(wrongPassword, seconds(0, 10));
    expect(await entries(harness)).toEqual([{ at: seconds(0, 30).getTime(), lastAt: seconds(0, 30).getTime(), count: 2 }]);
  });

  it("cuts values a client chose to 200 characters, and coalesces what it cut", async () => {
    const harness = await logWithDatabase(dialect);
    const { log } = harness;
    const long = (tail: string) => `${"n".repeat(300)}${tail}`;
    await log.record({ ...wrongPassword, organizationId: long("a"), detail: { loginName: long("a") } }, at(0));
    await log.record({ ...wrongPassword, organizationId: long("b"), detail: { loginName: long("b") } }, at(0));
    const { events } = await log.list({ offset: 0, limit: 10 });
    const cut = `${"n".repeat(200)}…`;
    expect(events.map((event) => [event.organizationId, event.detail.loginName])).toEqual([[cut, cut]]);
    expect(await entries(harness)).toHaveLength(1);
  });

  it("coalesces across connections to one database", async () => {
    const harness = await logWithDatabase(dialect);
    const other = (await harness.reopen()).stores.securityLog;
    await harness.log.record(wrongPassword, seconds(0, 0));
    await other.record(wrongPassword, seconds(0, 1));
    await harness.log.record(wrongPassword, seconds(0, 2));
    expect(await entries(harness)).toEqual([{ at: seconds(0, 0).getTime(), lastAt: seconds(0, 2).getTime(), count: 3 }]);
  });

  it("coalesces one outcome recorded at once from several connections onto one entry with every occurrence", async () => {
    const harness = await logWithDatabase(dialect);
    const others = await Promise.all([harness.reopen(), harness.reopen()]);
    const logs = [harness.log, ...others.map((other) => other.stores.securityLog)];
    await Promise.all(logs.flatMap((log) => Array.from({ length: 10 }, (_, i) => log.record(wrongPassword, seconds(0, i)))));
    expect(await entries(harness)).toEqual([{ at: expect.any(Number), lastAt: seconds(0, 9).getTime(), count: 30 }]);
  });

  it("coalesces onto one entry per outcome when two processes record the same outcomes at the same moments", async () => {
    const { database, rows } = await logWithDatabase(dialect);
    const tsx = pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href;
    const script = join(import.meta.dirname, "support", "record-security-events.ts");
    // Both processes are running (tsx compiled, database open) by then, and record side by side.
    const startAt = Date.now() + 3_000;
    const run = () =>
      promisify(execFile)(process.execPath, ["--import", tsx, script, database, "1000", String(startAt)], { cwd: tmpdir() });
    await Promise.all([run(), run()]);
    // PostgreSQL counts in bigint, which the driver hands over as a string.
    const [totals] = await rows<{ entries: number | string; outcomes: number | string }>(
      "SELECT count(*) AS entries, sum(count) AS outcomes FROM security_events",
    );
    expect({ entries: Number(totals?.entries), outcomes: Number(totals?.outcomes) }).toEqual({ entries: 1000, outcomes: 2000 });
  });
});

describe("SQLite security log only: query plans", () => {
  it("finds a repeat through the user's entries, or those about no user, in one index", async () => {
    const { database } = await openStoreHarness("sqlite");
    const sqlite = openTemp(database).sqlite;
    const planOf = (userCondition: string) =>
      (
        sqlite
          .prepare(
            `EXPLAIN QUERY PLAN SELECT id FROM security_events WHERE ${userCondition} AND fingerprint = 'f' AND last_at >= 0 ` +
              "ORDER BY last_at DESC, id DESC LIMIT 1",
          )
          .all() as { detail: string }[]
      )
        .map((step) => step.detail)
        .join("\n");
    expect(planOf("user_id IS 'u1'")).toContain("USING COVERING INDEX security_events_by_user (user_id=? AND fingerprint=?");
    expect(planOf("user_id IS NULL")).toContain("USING COVERING INDEX security_events_by_user (user_id=? AND fingerprint=?");
  });
});

describe.each(dialects)("%s security log: listing and purging", (dialect) => {
  async function filledLog() {
    const handle = await logWithDatabase(dialect);
    const { log } = handle;
    await log.record({ kind: "login.failed", userId: "u1", detail: { n: "1" } }, at(1));
    await log.record({ kind: "code.failed", userId: "u2", detail: { n: "2" } }, at(2));
    await log.record({ kind: "token.created", userId: "u1", actorId: "admin", organizationId: "org-1", detail: { n: "3" } }, at(3));
    await log.record({ kind: "login.failed", userId: "u2", detail: { n: "4" } }, at(4));
    await log.record({ kind: "roles.changed", actorId: "admin", organizationId: "org-2", detail: { n: "5" } }, at(4));
    // A repeat of the first, within a window of 10 minutes: it last occurred after all the others.
    await log.record({ kind: "login.failed", userId: "u1", detail: { n: "1" } }, seconds(4, 30), 10 * 60_000);
    return handle;
  }
  const numbers = (page: { events: { detail: Record<string, string> }[] }) => page.events.map((event) => event.detail.n);

  it("lists newest first by last occurrence, then by entry, with the total of all matches", async () => {
    const { log } = await filledLog();
    const page = await log.list({ offset: 0, limit: 10 });
    expect(page.total).toBe(5);
    expect(numbers(page)).toEqual(["1", "5", "4", "3", "2"]);
    expect(numbers(await log.list({ offset: 0, limit: 10, ascending: true }))).toEqual(["2", "3", "4", "5", "1"]);
  });

  it("lists the entries of one user, of some kinds, or both", async () => {
    const { log } = await filledLog();
    expect(numbers(await log.list({ userId: "u1", offset: 0, limit: 10 }))).toEqual(["1", "3"]);
    expect(numbers(await log.list({ kinds: ["login.failed", "roles.changed"], offset: 0, limit: 10 }))).toEqual(["1", "5", "4"]);
    const both = await log.list({ userId: "u2", kinds: ["login.failed"], offset: 0, limit: 10 });
    expect({ total: both.total, numbers: numbers(both) }).toEqual({ total: 1, numbers: ["4"] });
    expect(numbers(await log.list({ kinds: [], offset: 0, limit: 10 }))).toHaveLength(5);
    expect((await log.list({ userId: "nobody", offset: 0, limit: 10 })).total).toBe(0);
  });

  it("lists the entries one user caused, or about one organization", async () => {
    const { log } = await filledLog();
    expect(numbers(await log.list({ actorId: "admin", offset: 0, limit: 10 }))).toEqual(["5", "3"]);
    expect(numbers(await log.list({ organizationId: "org-1", offset: 0, limit: 10 }))).toEqual(["3"]);
    expect(numbers(await log.list({ actorId: "admin", organizationId: "org-2", kinds: ["roles.changed"], offset: 0, limit: 10 }))).toEqual(["5"]);
  });

  it("pages", async () => {
    const { log } = await filledLog();
    const page = await log.list({ offset: 1, limit: 2 });
    expect({ total: page.total, numbers: numbers(page) }).toEqual({ total: 5, numbers: ["5", "4"] });
    expect(numbers(await log.list({ offset: 5, limit: 2 }))).toEqual([]);
  });

  it("purges the entries that last occurred before the given time, repeats counting as occurrences", async () => {
    const { log } = await filledLog();
    expect(await log.purge(at(3))).toBe(1);
    expect(numbers(await log.list({ offset: 0, limit: 10 }))).toEqual(["1", "5", "4", "3"]);
    expect(await log.purge(at(3))).toBe(0);
    expect(await log.purge(at(5))).toBe(4);
    expect((await log.list({ offset: 0, limit: 10 })).total).toBe(0);
  });

  it("purges a backlog of many batches whole, and what is newer stays", async () => {
    const { log } = await logWithDatabase(dialect);
    const backlog = 2 * purgeBatchRows + 7;
    await Promise.all(Array.from({ length: backlog }, (_, n) => log.record({ kind: "login.failed", userId: `u${n}`, detail: {} }, at(1))));
    await log.record({ kind: "login.failed", userId: "recent", detail: {} }, at(5));
    expect(await log.purge(at(2))).toBe(backlog);
    expect((await log.list({ offset: 0, limit: 10 })).events.map((event) => event.userId)).toEqual(["recent"]);
  });
});
