// A deployment loads only the packages its configuration uses: on SQLite without SMTP, neither node-postgres nor
// nodemailer (with drizzle's PostgreSQL dialect, about 18 MiB of memory in a process of their own). The server runs as
// a real process; a preloaded script lists, as it exits, the CommonJS packages it loaded (ESM imports of CommonJS
// modules go through require's cache too).
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { createPostgresDatabase } from "../helpers/postgres-database.js";
import { startServerProcess } from "../helpers/server-process.js";

const directory = mkdtempSync(join(tmpdir(), "verifyd-loaded-"));
afterAll(() => rmSync(directory, { recursive: true, force: true }));

const reporter = join(directory, "report-loaded.cjs");
writeFileSync(
  reporter,
  `process.once("exit", () => {
    const packages = new Set(Object.keys(require.cache).map((file) => /node_modules\\/((?:@[^/]+\\/)?[^/]+)\\//.exec(file)?.[1]).filter(Boolean));
    require("node:fs").writeFileSync(process.env.LOADED_PACKAGES_FILE, JSON.stringify([...packages]));
  });\n`,
);

/** The packages a server on `database` loaded from its start to its graceful stop. */
async function packagesLoadedServing(database: string, name: string): Promise<string[]> {
  const file = join(directory, `${name}.json`);
  const server = await startServerProcess(database, {
    command: [process.execPath, "--require", reporter, "--import", "tsx", "src/main.ts"],
    args: ["--admin-token-file", join(directory, `${name}-admin-token`)],
    // PostgreSQL wants the keys in the environment, shared by every process.
    env: { LOADED_PACKAGES_FILE: file, VERIFYD_KEYS: `1:${randomBytes(32).toString("base64")}` },
  });
  await server.stop();
  return JSON.parse(readFileSync(file, "utf8")) as string[];
}

describe("the packages a server loads", () => {
  it("on SQLite: better-sqlite3, and neither node-postgres nor nodemailer", async () => {
    const loaded = await packagesLoadedServing(join(directory, "verifyd.sqlite"), "sqlite");
    expect(loaded).toContain("better-sqlite3");
    expect(loaded).not.toContain("pg");
    expect(loaded).not.toContain("nodemailer");
  });

  it("on PostgreSQL: node-postgres", async () => {
    const loaded = await packagesLoadedServing(await createPostgresDatabase(), "postgres");
    expect(loaded).toContain("pg");
    expect(loaded).not.toContain("nodemailer");
  });
});
