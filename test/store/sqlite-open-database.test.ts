import { execFile } from "node:child_process";
import { mkdirSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";
import Database from "better-sqlite3";
import { readMigrationFiles } from "drizzle-orm/migrator";
import { describe, expect, it } from "vitest";
import { openDatabase } from "../../src/store/sqlite/open-database.js";
import { SqliteUserStore } from "../../src/store/sqlite/sqlite-user-store.js";
import { openTemp, tempDatabasePath } from "./support/temp-database.js";
import { userAdded } from "./support/user-changes.js";

const tsx = pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href;
const startProcess = join(import.meta.dirname, "support", "start-process.ts");
const migrationsFolder = join(import.meta.dirname, "..", "..", "src", "store", "sqlite", "migrations");

/** Starts the service's store in a process of its own, from an unrelated working directory. */
async function start(path: string, startAt = 0): Promise<string> {
  const { stdout } = await promisify(execFile)(process.execPath, ["--import", tsx, startProcess, path, String(startAt)], {
    cwd: tmpdir(),
  });
  return stdout;
}

describe("openDatabase", () => {
  it("creates the file and its directory, in WAL mode with a busy timeout", () => {
    const { sqlite } = openTemp();
    expect(sqlite.pragma("journal_mode", { simple: true })).toBe("wal");
    expect(sqlite.pragma("busy_timeout", { simple: true })).toBe(5000);
    expect(sqlite.pragma("foreign_keys", { simple: true })).toBe(1);
  });

  it("keeps the file, its WAL and its directory readable by the owner only", async () => {
    const path = join(tempDatabasePath(), "..", "private", "verifyd.sqlite");
    const { db, close } = openTemp(path);
    await new SqliteUserStore(db).append(userAdded("1", "ada"));
    for (const file of [path, `${path}-wal`]) expect(statSync(file).mode & 0o777, file).toBe(0o600);
    expect(statSync(dirname(path)).mode & 0o777).toBe(0o700);
    close();
  });

  it("gives a new file 2 KiB pages, and keeps an existing file's own page size and data", async () => {
    expect(openTemp().sqlite.pragma("page_size", { simple: true })).toBe(2048);

    // A file written before: SQLite's default 4 KiB pages, and a user in it.
    const older = openTemp();
    older.sqlite.exec("PRAGMA journal_mode = DELETE; PRAGMA page_size = 4096; VACUUM");
    await new SqliteUserStore(older.db).append(userAdded("u1", "ada"));
    older.close();
    const reopened = openTemp(older.path);
    expect(reopened.sqlite.pragma("page_size", { simple: true })).toBe(4096);
    expect(await new SqliteUserStore(reopened.db).load("u1")).toMatchObject({ username: "ada" });
  });

  it("counts the migrations the file lacks: none after opening, the newest once its record is gone", () => {
    const { sqlite, pendingMigrations } = openTemp();
    expect(pendingMigrations()).toBe(0);
    // What an older copy of the file restored under the running server looks like to it.
    sqlite.exec("DELETE FROM __drizzle_migrations WHERE created_at = (SELECT max(created_at) FROM __drizzle_migrations)");
    expect(pendingMigrations()).toBe(1);
  });

  it("reopens an existing file with its data", async () => {
    const first = openTemp();
    await new SqliteUserStore(first.db).append(userAdded("u1", "ada"));
    first.close();
    expect(await new SqliteUserStore(openTemp(first.path).db).load("u1")).toMatchObject({ username: "ada" });
  });

  it("lets several processes start on a new file at once, agreeing on one default organization", async () => {
    const path = tempDatabasePath();
    const startAt = Date.now() + 1500;
    const ids = await Promise.all(Array.from({ length: 6 }, () => start(path, startAt)));

    expect(new Set(ids).size).toBe(1);
    const { sqlite } = openTemp(path);
    expect(sqlite.prepare("SELECT count(*) AS n FROM organizations").get()).toEqual({ n: 1 });
  });

  it("starts normally when another process migrates the file just as it is about to", async () => {
    const path = tempDatabasePath();
    mkdirSync(dirname(path), { recursive: true });
    // Play a process that has read that nothing is migrated yet and now migrates, holding the write lock.
    const migrating = new Database(path);
    migrating.pragma("journal_mode = WAL");
    migrating.exec('CREATE TABLE "__drizzle_migrations" (id SERIAL PRIMARY KEY, hash text NOT NULL, created_at numeric)');
    migrating.exec("BEGIN IMMEDIATE");
    // The other process reads the same, then waits for the lock.
    const starting = start(path);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    for (const migration of readMigrationFiles({ migrationsFolder })) {
      for (const statement of migration.sql) migrating.exec(statement);
      migrating
        .prepare('INSERT INTO "__drizzle_migrations" (hash, created_at) VALUES (?, ?)')
        .run(migration.hash, migration.folderMillis);
    }
    migrating.exec("COMMIT");
    migrating.close();

    await expect(starting).resolves.not.toBe("");
  });

  it("refuses to upgrade a file where two users of one organization share a verified number, naming them and changing nothing", () => {
    const path = tempDatabasePath();
    mkdirSync(dirname(path), { recursive: true });
    // The file as the version before the unique index left it: every migration up to it, and two users who verified
    // the same number in one organization.
    const previous = new Database(path);
    previous.exec('CREATE TABLE "__drizzle_migrations" (id SERIAL PRIMARY KEY, hash text NOT NULL, created_at numeric)');
    for (const migration of readMigrationFiles({ migrationsFolder }).slice(0, 4)) {
      for (const statement of migration.sql) previous.exec(statement);
      previous.prepare('INSERT INTO "__drizzle_migrations" (hash, created_at) VALUES (?, ?)').run(migration.hash, migration.folderMillis);
    }
    const insertUser = previous.prepare(
      "INSERT INTO users (id, resource_owner, username, sequence, created_at, changed_at, state, verified_phone) VALUES (?, 'org-1', ?, 1, 0, 0, '{}', '+41790000001')",
    );
    insertUser.run("user-1", "ada");
    insertUser.run("user-2", "grace");
    previous.close();

    expect(() => openDatabase(path)).toThrow(/users user-1, user-2 in organization org-1/);
    const after = new Database(path, { readonly: true });
    expect(after.prepare("SELECT count(*) FROM users WHERE verified_phone IS NOT NULL").pluck().get()).toBe(2);
    expect(after.prepare("SELECT count(*) FROM __drizzle_migrations").pluck().get()).toBe(4);
    after.close();
  });
});
