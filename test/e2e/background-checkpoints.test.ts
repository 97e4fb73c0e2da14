// The server's WAL checkpoints run in a worker thread (src/store/sqlite/background-checkpoints.ts), not inside the
// commits of its calls. What shows from outside: a change reaches the database file itself within a moment, long
// before the WAL holds the 1,000 pages at which SQLite would checkpoint inside a commit; a stop still leaves the whole
// database in the file; and two servers on one file checkpoint side by side without complaint. Real processes.
import { copyFileSync, existsSync, statSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { fixtures } from "../helpers/api-session.js";
import { serverProcessDirectories, startServerProcess } from "../helpers/server-process.js";

const tempDirectory = serverProcessDirectories("verifyd-checkpoints-");

/** The organizations in the database file alone, as a copy of it without its WAL reads them. */
function organizationsInFile(database: string): string[] {
  const copy = `${database}.file-only`;
  copyFileSync(database, copy);
  const reader = new Database(copy, { readonly: true });
  try {
    const tables = reader.prepare("SELECT count(*) FROM sqlite_schema WHERE name = 'organizations'").pluck().get();
    return tables === 0 ? [] : (reader.prepare("SELECT name FROM organizations").pluck().all() as string[]);
  } finally {
    reader.close();
  }
}

async function eventually<T>(read: () => T, until: (value: T) => boolean, timeoutMs = 5_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = read();
    if (until(value) || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe("the server's WAL checkpoints", () => {
  it("copy a change into the database file within a moment, though the WAL is far from SQLite's own threshold", async () => {
    const database = join(tempDirectory(), "verifyd.sqlite");
    const server = await startServerProcess(database);
    const setup = fixtures(server.url, server.adminToken);
    await setup.admin.orgs.addOrganization({ name: "Checkpointed Ltd" });
    // A handful of pages: SQLite would checkpoint inside a commit only once the WAL held 1,000.
    expect(statSync(`${database}-wal`).size).toBeLessThan(1_000 * 2_048);
    expect(await eventually(() => organizationsInFile(database), (names) => names.includes("Checkpointed Ltd"))).toContain("Checkpointed Ltd");
  });

  it("leave the whole database in the file when the server stops", async () => {
    const database = join(tempDirectory(), "verifyd.sqlite");
    const server = await startServerProcess(database);
    const setup = fixtures(server.url, server.adminToken);
    for (const name of ["First", "Second", "Third"]) await setup.admin.orgs.addOrganization({ name });
    expect((await server.stop()).code).toBe(0);
    expect(existsSync(`${database}-wal`)).toBe(false);
    expect(organizationsInFile(database)).toEqual(expect.arrayContaining(["First", "Second", "Third"]));
  });

  it("run in two servers on one file without failing, and both see each other's changes", async () => {
    const database = join(tempDirectory(), "verifyd.sqlite");
    const first = await startServerProcess(database);
    const second = await startServerProcess(database);
    const writes = [first, second].flatMap((server, index) =>
      Array.from({ length: 20 }, (_, n) => fixtures(server.url, server.adminToken).admin.orgs.addOrganization({ name: `Org ${index}-${n}` })),
    );
    await Promise.all(writes);
    const names = await eventually(() => organizationsInFile(database), (found) => found.length >= 40);
    expect(names.filter((name) => name.startsWith("Org "))).toHaveLength(40);
    await new Promise((resolve) => setTimeout(resolve, 300));
    for (const server of [first, second]) {
      expect([...server.stderr, ...server.stdout].filter((line) => line.includes("background checkpoint"))).toEqual([]);
    }
  });
});
