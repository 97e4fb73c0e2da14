// What an operator sees when the server cannot start: one line on stderr naming the file, setting or port at fault
// and what to do, exit code 2, and never a stack trace.
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { type Server, createServer } from "node:net";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { postgresServerUrl } from "../helpers/postgres-database.js";
import {
  type FinishedProcess,
  runServerProcessToExit,
  startServerProcess,
  serverProcessDirectories,
} from "../helpers/server-process.js";

const tempDirectory = serverProcessDirectories("verifyd-startup-");

/** The one plain line the server printed (log lines are JSON), after checking how it ended. */
function startupFailure(exit: FinishedProcess): string {
  const stderr = exit.stderr.join("\n");
  expect(exit.code, stderr).toBe(2);
  expect(stderr).not.toMatch(/^\s+at /m);
  expect(stderr).not.toContain("verifyd listening");
  const plain = exit.stderr.filter((line) => !line.startsWith("{"));
  expect(plain, stderr).toHaveLength(1);
  expect(plain[0]).toMatch(/^verifyd: /);
  return plain[0] as string;
}

async function databaseWithData(): Promise<string> {
  const database = join(tempDirectory(), "verifyd.sqlite");
  const server = await startServerProcess(database);
  const response = await fetch(`${server.url}/v2/users/human`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${server.adminToken}` },
    body: JSON.stringify({ profile: { givenName: "Ada", familyName: "Lovelace" }, phone: { phone: "+41791234567" } }),
  });
  expect(response.status).toBe(200);
  await server.stop();
  return database;
}

describe("start-up failures", () => {
  it.each([
    ["empty", ""],
    ["corrupt", '{"current": "1", "keys": {"1": '],
  ])("refuses an %s keyring.json next to a database with data, naming the file", async (_, content) => {
    const database = await databaseWithData();
    const keyring = join(database, "..", "keyring.json");
    writeFileSync(keyring, content);
    const line = startupFailure(await runServerProcessToExit(database, []));
    expect(line).toContain(keyring);
  });

  it("replaces an empty keyring.json when the database holds nothing yet", async () => {
    const directory = tempDirectory();
    const keyring = join(directory, "keyring.json");
    writeFileSync(keyring, "", { mode: 0o600 });
    const server = await startServerProcess(join(directory, "verifyd.sqlite"));
    await server.stop();
    expect(JSON.parse(readFileSync(keyring, "utf8"))).toMatchObject({ current: expect.any(String) });
  });

  it("refuses a file that is not a database, naming it", async () => {
    const database = join(tempDirectory(), "verifyd.sqlite");
    writeFileSync(database, "these are my notes, not a database\n".repeat(200));
    const line = startupFailure(await runServerProcessToExit(database, []));
    expect(line).toContain(database);
  });

  it("refuses a database where no directory can be made (under /proc), instead of hanging", async () => {
    const database = "/proc/verifyd-test/verifyd.sqlite";
    const line = startupFailure(await runServerProcessToExit(database, [], { timeoutMs: 15_000 }));
    expect(line).toBe(
      `verifyd: cannot create or open the database ${database} (ENOENT); check that its directory exists and is writable by this user, or choose another file with --database / DATABASE_URL`,
    );
  });

  it("refuses a database directory it may not write to, naming the file", async () => {
    const parent = tempDirectory();
    chmodSync(parent, 0o755);
    const directory = join(parent, "data");
    mkdirSync(directory, { mode: 0o555 });
    const database = join(directory, "verifyd.sqlite");
    // Root writes anywhere, whatever the mode; an immutable directory refuses new files even to root.
    const asRoot = process.getuid?.() === 0;
    if (asRoot) execFileSync("chattr", ["+i", directory]);
    try {
      const line = startupFailure(await runServerProcessToExit(database, []));
      expect(line).toContain(database);
    } finally {
      if (asRoot) execFileSync("chattr", ["-i", directory]);
    }
  });

  it("writes a dependency's process warning as a JSON log line, not as plain text among them", async () => {
    // pg warns about sslmode=require when it reads the URL; this PostgreSQL then offers no TLS, which ends the start.
    const url = new URL(postgresServerUrl);
    url.searchParams.set("sslmode", "require");
    const exit = await runServerProcessToExit(url.toString(), ["--admin-token-file", join(tempDirectory(), "admin-token")], {
      env: { VERIFYD_KEYS: `1:${randomBytes(32).toString("base64")}` },
    });
    expect(startupFailure(exit)).toContain("TLS to PostgreSQL");
    const warnings = exit.stderr.filter((line) => line.startsWith("{")).map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(warnings).toEqual([
      expect.objectContaining({ level: "warn", message: "process warning", warning: expect.stringMatching(/^SECURITY WARNING: The SSL modes/) }),
    ]);
  });

  it.each([
    ["--code-alphabet ''", ["--code-alphabet", ""], {}],
    ["VERIFYD_CODE_ALPHABET set empty", [], { VERIFYD_CODE_ALPHABET: "" }],
  ])("refuses an empty code alphabet, %s, rather than issuing digits (noted by a hostile trial)", async (_, args, env) => {
    const exit = await runServerProcessToExit(join(tempDirectory(), "verifyd.sqlite"), args, { env, timeoutMs: 10_000 });
    expect(startupFailure(exit)).toBe("verifyd: --code-alphabet / VERIFYD_CODE_ALPHABET: is empty; leave it unset for the default 0123456789");
  });

  it("names a combining mark in the code alphabet as such, not as a repeated letter (noted by a hostile trial)", async () => {
    const exit = await runServerProcessToExit(join(tempDirectory(), "verifyd.sqlite"), ["--code-alphabet", "e\u0301abcdefghij"]);
    expect(startupFailure(exit)).toBe(
      'verifyd: --code-alphabet holds characters of several code points, or combining marks, which a code would join to the character before them: "e\u0301" (U+0065 U+0301); give each character as one code point (é as U+00E9), or leave it out',
    );
  });

  it("refuses a port another process listens on, naming the port and the setting", async () => {
    const taken: Server = createServer();
    await new Promise<void>((resolve) => taken.listen(0, "127.0.0.1", resolve));
    const { port } = taken.address() as { port: number };
    try {
      const line = startupFailure(await runServerProcessToExit(join(tempDirectory(), "verifyd.sqlite"), ["--port", String(port)]));
      expect(line).toContain(String(port));
      expect(line).toContain("--port");
    } finally {
      taken.close();
    }
  });
});
