// The command line and the start on PostgreSQL as an operator meets them: `verifyd migrate` and `--check` on a new
// database, `verifyd admin token` and the outbox commands against it, and a start that cannot reach the server or
// finds no database or no TLS it can trust: one line naming the server (never the password) and what to do.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { expectOk, protocolClient } from "../helpers/protocol-clients.js";
import { createPostgresDatabase, postgresServerUrl } from "../helpers/postgres-database.js";
import { runCommand } from "../helpers/run-command.js";
import { childEnv, runServerProcessToExit, startServerProcess, stopAllServerProcesses } from "../helpers/server-process.js";

const repoRoot = join(import.meta.dirname, "..", "..");
const keys = `1:${Buffer.alloc(32, 5).toString("base64")}`;
const directory = mkdtempSync(join(tmpdir(), "verifyd-postgres-cli-"));

afterAll(async () => {
  await stopAllServerProcesses();
  rmSync(directory, { recursive: true, force: true });
});

function verifyd(args: string[], env: NodeJS.ProcessEnv = {}) {
  return runCommand(process.execPath, ["--import", "tsx", "src/main.ts", ...args], { cwd: repoRoot, env: childEnv(env), timeoutMs: 60_000 });
}

describe("verifyd on PostgreSQL from the command line", () => {
  it("migrates a new database once, and --check tells whether anything is pending", async () => {
    const database = await createPostgresDatabase();
    const before = await verifyd(["migrate", "--check"], { DATABASE_URL: database });
    expect(before.exitCode).toBe(1);
    expect(before.stdout).toMatch(/^pending 0000_init$/m);
    const first = await verifyd(["migrate"], { DATABASE_URL: database });
    expect(first.exitCode, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/^applied 0000_init$/m);
    const again = await verifyd(["migrate"], { DATABASE_URL: database });
    expect(again.stdout).toMatch(/is up to date; nothing to apply/);
    expect((await verifyd(["migrate", "--check"], { DATABASE_URL: database })).exitCode).toBe(0);
  });

  // Three at once each said they had applied every migration (a trial of several instances).
  it("says what each of several migrates started at once applied: every migration once in all", async () => {
    const database = await createPostgresDatabase();
    const client = new pg.Client({ connectionString: database });
    await client.connect();
    try {
      // Held here until all three have found what the database lacks and wait for the lock to migrate it.
      const migrationLock = 0x76667964;
      await client.query("SELECT pg_advisory_lock($1)", [migrationLock]);
      const started = [1, 2, 3].map(() => verifyd(["migrate"], { DATABASE_URL: database }));
      const waiting = async () =>
        (await client.query<{ count: number }>("SELECT count(*)::int AS count FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")).rows[0]!.count;
      await expect.poll(waiting, { timeout: 60_000, interval: 200 }).toBe(3);
      await client.query("SELECT pg_advisory_unlock($1)", [migrationLock]);
      const runs = await Promise.all(started);
      for (const run of runs) expect(run.exitCode, run.stderr).toBe(0);
      const applied = runs.flatMap((run) => run.stdout.split("\n").filter((line) => line.startsWith("applied ")));
      expect(applied).toHaveLength(new Set(applied).size);
      expect(applied).toContain("applied 0000_init");
      const { rows } = await client.query<{ count: number }>("SELECT count(*)::int AS count FROM drizzle.__drizzle_migrations");
      expect(applied).toHaveLength(rows[0]!.count);
    } finally {
      await client.end();
    }
  }, 120_000);

  it("never prints a password given in the URL's query, as node-postgres takes it", async () => {
    const database = await createPostgresDatabase();
    const withPassword = `${database}${database.includes("?") ? "&" : "?"}password=qsecretpw`;
    const checked = await verifyd(["migrate", "--check"], { DATABASE_URL: withPassword });
    expect(`${checked.stdout}${checked.stderr}`).not.toContain("qsecretpw");
    expect(checked.stdout).toContain("password=***");
    const unreachable = withPassword.replace(/:\d+\//, ":1/");
    const refused = await runServerProcessToExit(unreachable, [], { env: { VERIFYD_KEYS: keys } });
    expect(refused.stderr.join("\n")).not.toContain("qsecretpw");
  });

  it("issues a working administrator token and lists dead messages on a database a server bootstrapped", async () => {
    const database = await createPostgresDatabase();
    const tokenFile = join(directory, "first-token");
    const server = await startServerProcess(database, { args: ["--admin-token-file", tokenFile], env: { VERIFYD_KEYS: keys } });
    const issued = await verifyd(["admin", "token", "--print"], { DATABASE_URL: database });
    expect(issued.exitCode, issued.stderr).toBe(0);
    const token = issued.stdout.trim();
    expect(token).not.toBe(readFileSync(tokenFile, "utf8").trim());
    expect(expectOk(await protocolClient("rest", server.url, token).call("listUsers", {})).details).toBeDefined();
    const dead = await verifyd(["outbox", "list-dead"], { DATABASE_URL: database });
    expect(dead.stdout).toBe("no dead messages\n");
  });

  it("refuses a database a newer version migrated: the start, `migrate` and `migrate --check`", async () => {
    const database = await createPostgresDatabase();
    expect((await verifyd(["migrate"], { DATABASE_URL: database })).exitCode).toBe(0);
    // What a newer version leaves behind: a migration this one does not carry.
    const pool = new pg.Pool({ connectionString: database });
    await pool.query("INSERT INTO drizzle.__drizzle_migrations (hash, created_at) VALUES ('a newer one', $1)", [Date.UTC(2099, 0, 1)]);
    await pool.end();
    for (const args of [[], ["migrate"], ["migrate", "--check"]]) {
      const refused = args.length === 0 ? await runServerProcessToExit(database, [], { env: { VERIFYD_KEYS: keys } }) : undefined;
      const run = refused ? { exitCode: refused.code, stderr: refused.stderr.join("\n") } : await verifyd(args, { DATABASE_URL: database });
      expect(run.exitCode, run.stderr).toBe(2);
      expect(run.stderr).toMatch(/was migrated by a newer version of verifyd \(a migration of 2099-01-01T00:00:00\.000Z, after this version's newest, \d{4}_\w+\); run that version, or restore a backup taken before the upgrade/);
    }
  });

  it("leaves no token behind when `admin token` cannot write its file", async () => {
    const database = await createPostgresDatabase();
    await startServerProcess(database, { args: ["--admin-token-file", join(directory, "kept-token")], env: { VERIFYD_KEYS: keys } });
    const blocked = join(directory, "not-a-directory-either");
    writeFileSync(blocked, "");
    const failed = await verifyd(["admin", "token", join(blocked, "token")], { DATABASE_URL: database });
    expect(failed.exitCode).toBe(2);
    expect(failed.stderr).toContain("cannot write the admin token file");
    expect(await countRows(database, "SELECT count(*) FROM access_tokens")).toBe(1);
  });

  it("finishes on the next start a bootstrap that failed half-way, with one administrator", async () => {
    const database = await createPostgresDatabase();
    const blocked = join(directory, "not-a-directory");
    writeFileSync(blocked, "");
    const failed = await runServerProcessToExit(database, ["--admin-token-file", join(blocked, "admin-token")], { env: { VERIFYD_KEYS: keys } });
    expect(failed.code).not.toBe(0);
    const server = await startServerProcess(database, {
      args: ["--admin-token-file", join(directory, "second-token")],
      env: { VERIFYD_KEYS: keys },
    });
    expect(expectOk(await protocolClient("rest", server.url, server.adminToken).call("listUsers", {})).details).toBeDefined();
    const pool = new pg.Pool({ connectionString: database });
    try {
      const { rows } = await pool.query("SELECT (SELECT count(*) FROM users WHERE username = 'admin') AS admins, (SELECT count(*) FROM instance) AS marks");
      expect(rows[0]).toEqual({ admins: "1", marks: "1" });
      expect(await countRows(database, "SELECT count(*) FROM access_tokens")).toBe(1);
    } finally {
      await pool.end();
    }
  });

  it("upgrades verified addresses to their mailboxes, refusing first, by name, users whose addresses differ only in case", async () => {
    const database = await createPostgresDatabase();
    const tokenFile = join(directory, "mailbox-token");
    const first = await startServerProcess(database, { args: ["--admin-token-file", tokenFile], env: { VERIFYD_KEYS: keys } });
    const client = protocolClient("rest", first.url, first.adminToken);
    const person = async (email: string) =>
      expectOk(await client.call("addHumanUser", { profile: { givenName: "Ada", familyName: "Mailbox" }, email: { email, isVerified: true } })).userId as string;
    const ada = await person("clash-ada@example.com");
    const twin = await person("clash-twin@example.com");
    await first.stop();
    // As the previous version stored it, and without the migration.
    const pool = new pg.Pool({ connectionString: database });
    const storeAs = (userId: string, email: string) =>
      pool.query("UPDATE users SET verified_email = $1, state = jsonb_set(state, '{email,verified}', to_jsonb($1::text)) WHERE id = $2", [email, userId]);
    try {
      await storeAs(twin, "Clash-Ada@example.com");
      // The schema as it stood before the mailboxes' migration: that migration and the ones after it undone.
      const journal = JSON.parse(readFileSync("src/store/postgres/migrations/meta/_journal.json", "utf8")) as { entries: { tag: string; when: number }[] };
      const mailboxes = journal.entries.find((entry) => entry.tag.endsWith("_email_mailboxes"));
      await pool.query("DELETE FROM drizzle.__drizzle_migrations WHERE created_at >= $1", [mailboxes?.when]);
      await pool.query(`DROP INDEX users_by_organization_and_creation, users_by_creation, users_username_unique, users_by_username;
        ALTER TABLE users ADD CONSTRAINT users_username_unique UNIQUE (resource_owner, username);
        CREATE INDEX users_by_username ON users (username);`);

      const refused = await verifyd(["migrate"], { DATABASE_URL: database });
      expect(refused.exitCode).toBe(2);
      expect(refused.stderr).toMatch(
        new RegExp(`^verifyd: .* a verified email address is now one login name in any letter case, and these users share one: users (${ada}, ${twin}|${twin}, ${ada}) in organization \\S+\\. With the previous version`),
      );

      await storeAs(twin, "Clash-Twin@example.com");
      const applied = await verifyd(["migrate"], { DATABASE_URL: database });
      expect(applied.stdout).toMatch(/^applied \d{4}_email_mailboxes$/m);
      const { rows } = await pool.query("SELECT verified_email FROM users WHERE id = $1", [twin]);
      expect(rows).toEqual([{ verified_email: "clash-twin@example.com" }]);
    } finally {
      await pool.end();
    }
  });

  it("refuses to start without the shared keys, naming the setting", async () => {
    const database = await createPostgresDatabase();
    const run = await runServerProcessToExit(database, []);
    expect(run.code).toBe(2);
    expect(run.stderr.join("\n")).toMatch(/with PostgreSQL every process must use the same keys; give them in VERIFYD_KEYS/);
  });

  it("explains a server it cannot reach and a database that does not exist, without the password", async () => {
    const unreachable = "postgres://verifyd:hunter2@127.0.0.1:1/verifyd";
    const refused = await runServerProcessToExit(unreachable, [], { env: { VERIFYD_KEYS: keys } });
    expect(refused.code).not.toBe(0);
    const said = refused.stderr.join("\n");
    expect(said).toMatch(/cannot reach PostgreSQL at postgres:\/\/verifyd:\*\*\*@127\.0\.0\.1:1\/verifyd \(ECONNREFUSED\)/);
    expect(said).not.toContain("hunter2");
    const missing = new URL(postgresServerUrl);
    missing.pathname = "/verifyd_no_such_database";
    const absent = await runServerProcessToExit(missing.toString(), [], { env: { VERIFYD_KEYS: keys } });
    expect(absent.stderr.join("\n")).toMatch(/does not exist .*; create it first/);
  });

  it("explains a server with no connection left for it as that, not as one it cannot reach", async () => {
    // A role allowed no connection meets what a server with every slot taken answers: 53300, too many connections.
    const role = `verifyd_no_slots_${process.pid}`;
    const admin = new pg.Client({ connectionString: postgresServerUrl });
    await admin.connect();
    try {
      await admin.query(`DROP ROLE IF EXISTS ${role}`);
      await admin.query(`CREATE ROLE ${role} LOGIN CONNECTION LIMIT 0`);
      const url = new URL(await createPostgresDatabase());
      url.username = role;
      const refused = await runServerProcessToExit(url.toString(), [], { env: { VERIFYD_KEYS: keys } });
      expect(refused.code).toBe(2);
      expect(refused.stderr.join("\n")).toMatch(/has no connection left for this process \(53300: .*\); close what holds its connections, or raise its max_connections/);
    } finally {
      await admin.query(`DROP ROLE IF EXISTS ${role}`);
      await admin.end();
    }
  });

  it("explains a TLS connection the server cannot give, naming DATABASE_URL's sslmode", async () => {
    // The server offers no TLS, or one whose certificate this machine does not trust: either fails verify-full.
    const url = new URL(postgresServerUrl);
    url.searchParams.set("sslmode", "verify-full");
    const run = await verifyd(["migrate", "--check"], { DATABASE_URL: url.toString() });
    expect(run.exitCode, run.stderr).toBe(2);
    expect(run.stderr.trimEnd().split("\n")).toEqual([
      expect.stringMatching(/^verifyd: TLS to PostgreSQL at postgres:\/\/.*sslmode=verify-full failed \(.+\); with sslmode in DATABASE_URL the server must offer TLS/),
    ]);
  });

  it("words pg's warning about sslmode=require in one line, as every other line it prints", async () => {
    const url = new URL(postgresServerUrl);
    url.searchParams.set("sslmode", "require");
    const run = await verifyd(["migrate", "--check"], { DATABASE_URL: url.toString() });
    expect(run.exitCode, run.stderr).toBe(2);
    expect(run.stderr.trimEnd().split("\n")).toEqual([
      expect.stringMatching(/^verifyd: warning: SECURITY WARNING: The SSL modes 'prefer', 'require', and 'verify-ca' are treated as aliases for 'verify-full'\. .*sslmode=verify-full/),
      expect.stringMatching(/^verifyd: TLS to PostgreSQL at .*sslmode=require failed/),
    ]);
  });
});

async function countRows(database: string, query: string): Promise<number> {
  const pool = new pg.Pool({ connectionString: database });
  try {
    return Number((await pool.query<{ count: string }>(query)).rows[0]!.count);
  } finally {
    await pool.end();
  }
}
