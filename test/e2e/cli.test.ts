// The command line as an operator meets it: the real entry (`node --import tsx src/main.ts`, as `npm start` runs it,
// and the compiled `dist/main.js` as its own executable) with each command, against real database files and real
// server processes. Every failure is one line `verifyd: …` on stderr with exit code 2 (could not run as given) or 1
// (failed while running), never a stack trace.
import { execFileSync } from "node:child_process";
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import net from "node:net";
import { join } from "node:path";
import Database from "better-sqlite3";
import { readMigrationFiles } from "drizzle-orm/migrator";
import { beforeAll, describe, expect, it } from "vitest";
import { settings } from "../../src/config.js";
import { passwordLogin, rest, unique, uniqueMobile } from "../helpers/api-session.js";
import { type CommandResult, runCommand } from "../helpers/run-command.js";
import { type ServerProcess, childEnv, serverProcessDirectories, startServerProcess } from "../helpers/server-process.js";
import { createTestCertificate } from "../helpers/tls-cert.js";
import { startWebhookReceiver } from "../helpers/webhook-receiver.js";
import { openLiveDatabase } from "../helpers/live-database.js";

const repoRoot = join(import.meta.dirname, "..", "..");
const migrationsFolder = join(repoRoot, "src", "store", "sqlite", "migrations");
const tempDirectory = serverProcessDirectories("verifyd-cli-");
const tempDatabase = () => join(tempDirectory(), "verifyd.sqlite");
/** Given to every server of a test that restores or reuses a database elsewhere, so that its codes stay readable. */
const keys = `1:${Buffer.alloc(32, 7).toString("base64")}`;

/** Runs the command line with the settings' variables cleared from the environment, plus `env`. */
function verifyd(args: string[], env: NodeJS.ProcessEnv = {}, entry = [process.execPath, "--import", "tsx", "src/main.ts"]) {
  const [file, ...first] = entry;
  return runCommand(file!, [...first, ...args], { cwd: repoRoot, env: childEnv(env), timeoutMs: 60_000 });
}

/** The one line a failure printed, after checking its exit code and that no stack trace came with it. */
function failureLine(run: CommandResult, exitCode: 1 | 2): string {
  expect(run.exitCode, run.stderr).toBe(exitCode);
  expect(run.stderr).not.toMatch(/^\s+at /m);
  const lines = run.stderr.trimEnd().split("\n");
  expect(lines, run.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^verifyd: /);
  return lines[0]!;
}

function migrationTags(): string[] {
  const journal = JSON.parse(readFileSync(join(migrationsFolder, "meta", "_journal.json"), "utf8")) as { entries: { tag: string }[] };
  return journal.entries.map((entry) => entry.tag);
}

/** A database as the version before this one left it: every migration but the newest. */
function databaseLackingNewestMigration(): string {
  const path = tempDatabase();
  const sqlite = new Database(path);
  sqlite.exec('CREATE TABLE "__drizzle_migrations" (id SERIAL PRIMARY KEY, hash text NOT NULL, created_at numeric)');
  for (const migration of readMigrationFiles({ migrationsFolder }).slice(0, -1)) {
    for (const statement of migration.sql) sqlite.exec(statement);
    sqlite.prepare('INSERT INTO "__drizzle_migrations" (hash, created_at) VALUES (?, ?)').run(migration.hash, migration.folderMillis);
  }
  sqlite.close();
  return path;
}

async function addUser(server: ServerProcess, body: object = {}): Promise<string> {
  const answer = await rest(server.url, server.adminToken, "POST", "/v2/users/human", {
    username: unique("cli"),
    profile: { givenName: "Ada", familyName: "Lovelace" },
    phone: { phone: uniqueMobile(), returnCode: {} },
    ...body,
  });
  expect(answer.status, JSON.stringify(answer.body)).toBe(200);
  return answer.body.userId as string;
}

async function until(what: string, condition: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe("help and version", () => {
  it("lists the commands and the exit codes with --help and -h", async () => {
    for (const flag of ["--help", "-h"]) {
      const run = await verifyd([flag]);
      expect(run.exitCode).toBe(0);
      for (const command of ["serve", "migrate", "backup", "outbox list-dead", "outbox retry", "keys generate", "admin token"]) {
        expect(run.stdout).toContain(`  ${command} `);
      }
      expect(run.stdout).toMatch(/Exit codes:\n\s+0 .*\n\s+1 .*\n(.*\n)*\s+2 /);
    }
  });

  it("prints package.json's version", async () => {
    const { version } = JSON.parse(readFileSync(join(repoRoot, "package.json"), "utf8")) as { version: string };
    expect(await verifyd(["--version"])).toEqual({ exitCode: 0, stdout: `verifyd ${version}\n`, stderr: "" });
  });

  it("lists every setting under serve --help: flag, variable, default and description", async () => {
    const run = await verifyd(["serve", "--help"]);
    expect(run.exitCode).toBe(0);
    const help = run.stdout.replace(/\s+/g, " ");
    for (const setting of Object.values(settings)) {
      const fallback = "default" in setting && setting.default ? `, default ${setting.default}` : "";
      expect(help).toContain(`--${setting.flag}${"boolean" in setting ? `, --no-${setting.flag}` : " <value>"} (${setting.env}${fallback})`);
      expect(help).toContain(setting.description.replace(/\s+/g, " "));
    }
    // Without a command, the flags are serve's.
    expect((await verifyd(["--port", "0", "--help"])).stdout).toBe(run.stdout);
  });

  it.each(["migrate", "backup", "outbox list-dead", "outbox retry", "keys generate", "admin token"])("shows the usage of %s", async (name) => {
    const run = await verifyd([...name.split(" "), "--help"]);
    expect(run.exitCode, run.stderr).toBe(0);
    expect(run.stdout).toMatch(new RegExp(`^Usage: verifyd ${name} `));
    expect(run.stdout).toContain("Exit codes:");
  });

  it("lists a group's commands", async () => {
    const run = await verifyd(["outbox", "--help"]);
    expect(run.exitCode).toBe(0);
    expect(run.stdout).toMatch(/outbox list-dead .*\n.*outbox retry /);
  });
});

describe("mistakes on the command line", () => {
  it.each([
    [["srve"], /unknown command "srve"; see verifyd --help/],
    [["outbox"], /"outbox" needs a command: list-dead, retry; see verifyd outbox --help/],
    [["outbox", "purge"], /unknown command "outbox purge"; see verifyd outbox --help/],
    [["outbox", "--database", "x.sqlite"], /"outbox" needs a command: list-dead, retry; see verifyd outbox --help/],
    [["--prot", "1"], /unknown flag --prot; see verifyd serve --help/],
    [["backup", "copy.sqlite", "--forse"], /unknown flag --forse; see verifyd backup --help/],
    [["--port"], /--port needs a value; see verifyd serve --help/],
    [["--production=maybe"], /^verifyd: --production \/ VERIFYD_PRODUCTION: must be true or false \(got "maybe"\)$/],
    [["--port", "0", "stray"], /unexpected argument "stray"; see verifyd serve --help/],
    [["backup"], /missing <file>; see verifyd backup --help/],
    [["backup", "a.sqlite", "b.sqlite"], /unexpected argument "b.sqlite"/],
    [["outbox", "retry"], /give the ids of dead messages, or --all/],
    [["outbox", "retry", "1", "--all"], /give the ids of dead messages or --all, not both/],
    [["outbox", "retry", "913000000000000000", "abc"], /"abc" is not a message id; give the ids verifyd outbox list-dead shows/],
    [["keys", "generate", "--id", "a:b"], /--id must be 1 to 64 letters/],
    [["migrate", "--log-level", "loud"], /unknown flag --log-level; see verifyd migrate --help/],
  ])("%j: one line and exit code 2", async (args, message) => {
    expect(failureLine(await verifyd(args), 2)).toMatch(message);
  });

  it("takes every boolean flag spelt --flag, --no-flag, --flag=<value> or --flag <value>, and names a value that is none (noted by a hostile trial)", async () => {
    const booleans = Object.values(settings).filter((setting) => "boolean" in setting);
    const spellings: ((flag: string) => string[])[] = [
      (flag) => [`--${flag}`],
      (flag) => [`--no-${flag}`],
      (flag) => [`--${flag}=false`],
      (flag) => [`--${flag}`, "false"],
      (flag) => [`--${flag}=yes`],
    ];
    // A bad port stops the start once the flags are read, so that the only other line would be about a flag.
    const portRefused = /^verifyd: --port \/ PORT: must be an integer from 0 to 65535 \(got "http"\)$/;
    for (const spelt of spellings) {
      expect(failureLine(await verifyd([...booleans.flatMap((setting) => spelt(setting.flag)), "--port", "http"]), 2)).toMatch(portRefused);
    }
    const refused = await verifyd([...booleans.map((setting) => `--${setting.flag}=maybe`), "--port", "http"]);
    expect(refused.exitCode).toBe(2);
    expect(refused.stderr.trimEnd().split("\n").slice(1)).toEqual(
      booleans.map((setting) => `verifyd: --${setting.flag} / ${setting.env}: must be true or false (got "maybe")`),
    );
  });

  it("starts with --no-reflection --no-metrics, and serves no metrics then", async () => {
    const server = await startServerProcess(tempDatabase(), { args: ["--no-metrics", "--no-reflection"] });
    const response = await fetch(`${server.url}/metrics`);
    expect(response.status).toBe(404);
    expect(await response.text()).toBe("metrics are off (--metrics)\n");
    await server.stop();
  });

  it("names each bad setting on a line of its own, exit code 2", async () => {
    const run = await verifyd(["--port", "http"], { VERIFYD_CODE_TTL: "soon" });
    expect(run.exitCode).toBe(2);
    expect(run.stderr).not.toMatch(/^\s+at /m);
    expect(run.stderr.trimEnd().split("\n")).toEqual([
      expect.stringMatching(/^verifyd: --port \/ PORT: must be an integer/),
      expect.stringMatching(/^verifyd: --code-ttl \/ VERIFYD_CODE_TTL: must be a duration/),
    ]);
  });

  it("refuses an unreadable TLS certificate, naming the file", async () => {
    const key = join(tempDirectory(), "key.pem");
    writeFileSync(key, "-----BEGIN PRIVATE KEY-----\n");
    const line = failureLine(await verifyd(["--database", tempDatabase(), "--tls-cert", "/nonexistent/cert.pem", "--tls-key", key]), 2);
    expect(line).toMatch(/^verifyd: --tls-cert \/ TLS_CERT: cannot read \/nonexistent\/cert.pem: ENOENT/);
  });

  it("refuses a certificate and key that are not a usable pair, naming the settings, before it creates anything", async () => {
    const directory = tempDirectory();
    const database = join(directory, "verifyd.sqlite");
    const notPem = join(directory, "hostname");
    writeFileSync(notPem, "verify.example\n");
    const one = await createTestCertificate();
    const other = await createTestCertificate();
    const [certFile, otherKeyFile] = [join(directory, "cert.pem"), join(directory, "other-key.pem")];
    writeFileSync(certFile, one.cert);
    writeFileSync(otherKeyFile, other.key);

    const notPemLine = failureLine(await verifyd(["--database", database, "--tls-cert", notPem, "--tls-key", notPem]), 2);
    expect(notPemLine).toMatch(/^verifyd: --tls-cert \/ --tls-key: not a usable certificate and private key: .*no start line/);
    const mismatchLine = failureLine(await verifyd(["--database", database, "--tls-cert", certFile, "--tls-key", otherKeyFile]), 2);
    expect(mismatchLine).toMatch(/^verifyd: --tls-cert \/ --tls-key: not a usable certificate and private key: .*key values mismatch/);
    expect(readdirSync(directory).sort()).toEqual(["cert.pem", "hostname", "other-key.pem"]);
  });

  it("names the setting when it cannot listen: a host name that does not resolve, a port in use", async () => {
    // The database opens first, so the server's log lines share stderr with the refusal.
    const refusal = (run: CommandResult): string => {
      expect(run.exitCode, run.stderr).toBe(2);
      expect(run.stderr).not.toMatch(/^\s+at /m);
      const lines = run.stderr.split("\n").filter((line) => line.startsWith("verifyd: "));
      expect(lines, run.stderr).toHaveLength(1);
      return lines[0]!;
    };
    const database = join(tempDirectory(), "verifyd.sqlite");
    const unresolvable = refusal(await verifyd(["--database", database, "--host", "no-such-host.invalid", "--port", "0"]));
    expect(unresolvable).toMatch(/^verifyd: no-such-host\.invalid is no name this machine can resolve \((ENOTFOUND|EAI_AGAIN)\); give an address, or another --host \/ HOST$/);
    const occupant = net.createServer();
    await new Promise<void>((resolve) => occupant.listen(0, "127.0.0.1", resolve));
    try {
      const { port } = occupant.address() as net.AddressInfo;
      const taken = refusal(await verifyd(["--database", database, "--port", String(port)]));
      expect(taken).toBe(`verifyd: 127.0.0.1 port ${port} is already in use by another process; stop it or choose another --port / PORT`);
    } finally {
      occupant.close();
    }
  });

  it("refuses an SMTP CA file that holds no readable certificate, which TLS would have taken and trusted nothing of", async () => {
    const directory = tempDirectory();
    const database = join(directory, "verifyd.sqlite");
    const notPem = join(directory, "ca.txt");
    writeFileSync(notPem, "relay.example\n");
    const broken = join(directory, "ca.pem");
    const { cert } = await createTestCertificate();
    writeFileSync(broken, `${cert}\n-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n`);
    const smtp = ["--database", database, "--smtp-url", "smtps://relay.example:465", "--email-from", "codes@example.com"];

    const none = failureLine(await verifyd([...smtp, "--smtp-ca-file", notPem]), 2);
    expect(none).toBe(`verifyd: --smtp-ca-file / VERIFYD_SMTP_CA_FILE: the file holds no PEM certificate (-----BEGIN CERTIFICATE-----) (got "${notPem}")`);
    const second = failureLine(await verifyd([...smtp, "--smtp-ca-file", broken]), 2);
    expect(second).toMatch(/^verifyd: --smtp-ca-file \/ VERIFYD_SMTP_CA_FILE: the file's certificate 2 cannot be read: .*\(got ".*ca\.pem"\)$/);
    expect(readdirSync(directory).sort()).toEqual(["ca.pem", "ca.txt"]);
  });

  it("refuses, on a first start, to replace the admin token file another database wrote, and creates nothing", async () => {
    const directory = tempDirectory();
    const first = await startServerProcess(join(directory, "one.sqlite"));
    await first.stop();
    const second = join(directory, "two.sqlite");

    const line = failureLine(await verifyd(["--database", second, "--port", "0"]), 2);

    expect(line).toBe(
      `verifyd: the admin token file ${first.adminTokenFile} exists, though this database has no administrator yet: it holds another database's token, or a failed first start's; move it away, or choose another file with --admin-token-file / ADMIN_TOKEN_FILE`,
    );
    expect(readFileSync(first.adminTokenFile, "utf8").trim()).toBe(first.adminToken);
    const sqlite = openLiveDatabase(second, { readonly: true });
    expect(sqlite.prepare("SELECT count(*) AS n FROM users").get()).toEqual({ n: 0 });
    sqlite.close();
    expect(readdirSync(directory).filter((name) => name.includes("admin-token"))).toEqual(["admin-token"]);
  });

  it.each([["serve"], ["migrate"], ["backup", "copy.sqlite"], ["admin", "token"], ["outbox", "list-dead"]])(
    "%s: refuses a database URL of another scheme rather than taking it for a file name",
    async (...args: string[]) => {
      const line = failureLine(await verifyd([...args], { DATABASE_URL: "mysql://db.example/verifyd" }), 2);
      expect(line).toBe("verifyd: --database / DATABASE_URL: give the SQLite file as a plain path, e.g. ./data/verifyd.sqlite, or a postgres:// URL");
      expect(existsSync(join(repoRoot, "mysql:"))).toBe(false);
      const malformed = failureLine(await verifyd([...args], { DATABASE_URL: "postgres://verifyd:secret@db.example:notaport/verifyd" }), 2);
      expect(malformed).toMatch(/^verifyd: --database \/ DATABASE_URL: not a valid URL/);
      expect(malformed).not.toContain("secret");
    },
  );

  it("reads only its own settings: a bad variable of the server's does not stop a command", async () => {
    const run = await verifyd(["migrate", "--database", tempDatabase()], { PORT: "http", VERIFYD_CODE_TTL: "soon" });
    expect(run.exitCode, run.stderr).toBe(0);
    const bad = failureLine(await verifyd(["admin", "token", "--database", tempDatabase()], { VERIFYD_PERSONAL_TOKEN_TTL: "a year" }), 2);
    expect(bad).toMatch(/--personal-token-ttl \/ VERIFYD_PERSONAL_TOKEN_TTL: must be a duration/);
  });

  it.each([["migrate", "--check"], ["backup", "copy.sqlite"], ["outbox", "list-dead"], ["outbox", "retry", "--all"], ["admin", "token", "--print"]])(
    "%s %s: refuses a database that is not there, creating nothing",
    async (...args: string[]) => {
      const database = join(tempDirectory(), "typo.sqlite");
      const line = failureLine(await verifyd([...args, "--database", database]), 2);
      expect(line).toContain(database);
      expect(existsSync(database)).toBe(false);
    },
  );

  it.each([["migrate"], ["backup", "copy.sqlite"], ["outbox", "list-dead"]])("%s: refuses a file that is not a database", async (...args) => {
    const database = tempDatabase();
    writeFileSync(database, "these are my notes, not a database\n".repeat(200));
    const line = failureLine(await verifyd([...args, "--database", database]), 2);
    expect(line).toContain(`${database} is not a SQLite database`);
  });
});

describe("migrate", () => {
  it("lists every migration as pending in a new file, applies them, and then finds none", async () => {
    const database = tempDatabase();
    writeFileSync(database, "");
    const tags = migrationTags();

    const pending = await verifyd(["migrate", "--check"], { DATABASE_URL: database });
    expect(pending.exitCode, pending.stderr).toBe(1);
    expect(pending.stdout).toBe(`${tags.map((tag) => `pending ${tag}\n`).join("")}${database} lacks ${tags.length} migration(s); apply them with verifyd migrate\n`);
    expect(statSync(database).size).toBe(0);

    const applied = await verifyd(["migrate"], { DATABASE_URL: database });
    expect(applied.exitCode, applied.stderr).toBe(0);
    expect(applied.stdout).toBe(`${tags.map((tag) => `applied ${tag}\n`).join("")}${database} is up to date\n`);

    expect(await verifyd(["migrate", "--check"], { DATABASE_URL: database })).toEqual({ exitCode: 0, stdout: `${database} is up to date\n`, stderr: "" });
    expect((await verifyd(["migrate"], { DATABASE_URL: database })).stdout).toBe(`${database} is up to date; nothing to apply\n`);
  }, 90_000);

  it("upgrades a database of the previous version, which the other commands refuse until then", async () => {
    const database = databaseLackingNewestMigration();
    const newest = migrationTags().at(-1)!;
    const refused = failureLine(await verifyd(["outbox", "list-dead", "--database", database]), 2);
    expect(refused).toContain(`lacks migrations of this version (${newest}); apply them first with \`verifyd migrate\``);

    const check = await verifyd(["migrate", "--check", "--database", database]);
    expect(check.exitCode).toBe(1);
    expect(check.stdout).toContain(`pending ${newest}\n`);
    const applied = await verifyd(["migrate", "--database", database]);
    expect(applied.exitCode, applied.stderr).toBe(0);
    expect(applied.stdout).toBe(`applied ${newest}\n${database} is up to date\n`);
    expect((await verifyd(["outbox", "list-dead", "--database", database])).stdout).toBe("no dead messages\n");
  }, 90_000);

  it("is logged when a server's start applies it, and not at the starts after", async () => {
    const database = databaseLackingNewestMigration();
    const newest = migrationTags().at(-1)!;
    const applied = (lines: string[]) =>
      lines.map((line) => JSON.parse(line) as { message: string; migrations?: string[] }).filter((line) => line.message === "database migrations applied");
    const upgrading = await startServerProcess(database);
    await upgrading.stop();
    expect(applied(upgrading.stderr)).toEqual([expect.objectContaining({ migrations: [newest] })]);
    const next = await startServerProcess(database);
    await next.stop();
    expect(applied(next.stderr)).toEqual([]);
  }, 90_000);
});

describe("a database a newer version migrated", () => {
  it("is refused by the start, `migrate` and `migrate --check`, naming it, and left as it is", async () => {
    const database = tempDatabase();
    const server = await startServerProcess(database);
    await server.stop();
    // What a newer version leaves behind: a migration this one does not carry.
    const sqlite = new Database(database);
    sqlite.prepare("INSERT INTO __drizzle_migrations (hash, created_at) VALUES ('a newer one', ?)").run(Date.UTC(2099, 0, 1));
    sqlite.close();
    const refusal = new RegExp(
      `^verifyd: the database ${database} was migrated by a newer version of verifyd \\(a migration of 2099-01-01T00:00:00\\.000Z, after this version's newest, \\d{4}_\\w+\\); run that version, or restore a backup taken before the upgrade`,
    );
    for (const args of [["--port", "0"], ["migrate"], ["migrate", "--check"]]) {
      expect(failureLine(await verifyd([...args, "--database", database]), 2)).toMatch(refusal);
    }
    const after = new Database(database, { readonly: true });
    expect(after.prepare("SELECT count(*) AS n FROM __drizzle_migrations WHERE hash = 'a newer one'").get()).toEqual({ n: 1 });
    after.close();
  });
});

/** What each migration since the mailboxes' changed, undone, so that `migrate` applies it again. */
const undoneMigrations: [tagEnd: string, undo: string][] = [
  ["_email_mailboxes", ""],
  ["_users_by_creation", "DROP INDEX users_by_organization_and_creation; DROP INDEX users_by_creation;"],
  [
    "_usernames_in_any_case",
    `DROP INDEX users_username_unique; CREATE UNIQUE INDEX users_username_unique ON users (resource_owner, username);
     DROP INDEX users_by_username; CREATE INDEX users_by_username ON users (username);`,
  ],
];

/** The file's schema as it stood before the migration whose tag ends so: that migration and the ones after it undone. */
function undoMigrationsFrom(sqlite: Database.Database, tagEnd: string): void {
  const journal = JSON.parse(readFileSync("src/store/sqlite/migrations/meta/_journal.json", "utf8")) as { entries: { tag: string; when: number }[] };
  const first = journal.entries.find((entry) => entry.tag.endsWith(tagEnd));
  sqlite.prepare('DELETE FROM "__drizzle_migrations" WHERE created_at >= ?').run(first?.when);
  for (const [, undo] of undoneMigrations.slice(undoneMigrations.findIndex(([end]) => end === tagEnd))) sqlite.exec(undo);
}

describe("the upgrade that keeps verified addresses by their mailbox", () => {
  const password = "mailbox password";
  const person = (server: ServerProcess, email: string) =>
    addUser(server, { username: unique("mailbox"), email: { email, isVerified: true }, password: { password } });

  /** Verified addresses as the previous version stored them, each in its own case; `newest` forgets the migration. */
  function asPreviousVersion(database: string, verified: Record<string, string>, { unmigrated = false } = {}): void {
    const sqlite = new Database(database);
    try {
      const store = sqlite.prepare("UPDATE users SET verified_email = ?, state = json_set(state, '$.email.verified', ?) WHERE id = ?");
      for (const [userId, email] of Object.entries(verified)) store.run(email, email, userId);
      if (unmigrated) undoMigrationsFrom(sqlite, "_email_mailboxes");
    } finally {
      sqlite.close();
    }
  }

  it("refuses, naming them, users of one organization whose addresses differ only in case; then upgrades and logs in in any case", async () => {
    const database = tempDatabase();
    const first = await startServerProcess(database);
    const ada = await person(first, "clash-ada@example.com");
    const twin = await person(first, "clash-twin@example.com");
    const upper = await person(first, "upper@example.com");
    await first.stop();
    asPreviousVersion(database, { [twin]: "Clash-Ada@example.com", [upper]: "Upper@example.com" }, { unmigrated: true });

    const refused = failureLine(await verifyd(["migrate", "--database", database]), 2);
    expect(refused).toMatch(new RegExp(`a verified email address is now one login name in any letter case, and these users share one: users (${ada}, ${twin}|${twin}, ${ada}) in organization \\S+\\.`));
    expect(refused).toContain("change the address of all but one user of each group (SetEmail) and verify the new one (a changed address counts once verified), then start again");

    asPreviousVersion(database, { [twin]: "clash-twin@example.com", [upper]: "Upper@example.com" });
    const server = await startServerProcess(database);
    try {
      expect((await passwordLogin(server.url, "upper@example.com", password)).body.id).toBe(upper);
      expect((await passwordLogin(server.url, "UPPER@example.com", password)).body.id).toBe(upper);
      const shown = await rest(server.url, server.adminToken, "GET", `/v2/users/${upper}`);
      expect(shown.body).toMatchObject({ user: { human: { email: { email: "Upper@example.com", isVerified: true } } } });
    } finally {
      await server.stop();
    }
  }, 90_000);
});

describe("the upgrade that makes a username one login name in any case", () => {
  it("refuses, naming them, users of one organization whose usernames differ only in case; then upgrades and logs in in any case", async () => {
    const password = "username password";
    const database = tempDatabase();
    const first = await startServerProcess(database);
    const [ada, twin] = [await addUser(first, { username: "clash-ada", password: { password } }), await addUser(first, { username: "clash-twin" })];
    await first.stop();
    // As the previous version could store them, without the migration.
    const rename = (username: string) => {
      const sqlite = new Database(database);
      try {
        undoMigrationsFrom(sqlite, "_usernames_in_any_case");
        sqlite.prepare("UPDATE users SET username = ?, state = json_set(state, '$.username', ?) WHERE id = ?").run(username, username, twin);
      } finally {
        sqlite.close();
      }
    };
    rename("Clash-Ada");

    const refused = failureLine(await verifyd(["migrate", "--database", database]), 2);
    expect(refused).toMatch(new RegExp(`a username is now one login name in any letter case, and these users share one: users (${ada}, ${twin}|${twin}, ${ada}) in organization \\S+\\.`));
    expect(refused).toContain("delete all but one user of each group (DeleteUser) and add them again under usernames that differ in more than case");

    rename("clash-twin");
    const server = await startServerProcess(database);
    try {
      expect((await passwordLogin(server.url, "CLASH-Ada", password)).body.id).toBe(ada);
    } finally {
      await server.stop();
    }
  }, 90_000);
});

describe("backup", () => {
  it("copies the database consistently while a server writes to it, owner-only, and a server starts on the copy", async () => {
    const database = tempDatabase();
    const server = await startServerProcess(database, { env: { VERIFYD_KEYS: keys } });
    const before = await addUser(server);
    let written = 0;
    let writing = true;
    const writer = (async () => {
      while (writing) {
        await addUser(server);
        written += 1;
      }
    })();
    await until("users being added", () => written >= 3);
    const target = join(tempDirectory(), "backups", "verifyd-copy.sqlite");
    mkdirSync(join(target, ".."));

    const run = await verifyd(["backup", target], { DATABASE_URL: database });
    const writtenMeanwhile = written;
    writing = false;
    await writer;
    expect(run.exitCode, run.stderr).toBe(0);
    expect(run.stdout).toMatch(new RegExp(`^backed up ${database} to ${target} \\(\\d+\\.\\d KiB, owner-only, quick_check ok\\)\\n$`));
    expect(writtenMeanwhile).toBeGreaterThan(3);
    expect(statSync(target).mode & 0o777).toBe(0o600);
    // Self-contained: no write-ahead log beside it, and no temporary file left.
    expect(existsSync(`${target}-wal`)).toBe(false);
    expect(readdirSync(join(target, ".."))).toEqual(["verifyd-copy.sqlite"]);

    const copy = new Database(target, { readonly: true });
    expect(copy.pragma("integrity_check", { simple: true })).toBe("ok");
    const copied = copy.prepare("SELECT count(*) FROM users").pluck().get() as number;
    copy.close();
    expect(copied).toBeGreaterThan(3);

    // Restored as the README says: a server on the copy, with the keys and the administrator's token of the original.
    await server.stop();
    const restored = await startServerProcess(target, { env: { VERIFYD_KEYS: keys }, args: ["--admin-token-file", server.adminTokenFile] });
    const user = await rest(restored.url, restored.adminToken, "GET", `/v2/users/${before}`);
    expect(user.status, JSON.stringify(user.body)).toBe(200);
    expect(user.body.user).toMatchObject({ userId: before });
  }, 120_000);

  it("replaces an existing file only with --force, never the database itself, and needs the directory to exist", async () => {
    const database = tempDatabase();
    expect((await verifyd(["migrate", "--database", database])).exitCode).toBe(0);
    const target = join(tempDirectory(), "copy.sqlite");
    writeFileSync(target, "an older backup", { mode: 0o644 });

    expect(failureLine(await verifyd(["backup", target, "--database", database]), 2)).toContain(`${target} exists; give another file, or --force`);
    expect(readFileSync(target, "utf8")).toBe("an older backup");
    const forced = await verifyd(["backup", target, "--force", "--database", database]);
    expect(forced.exitCode, forced.stderr).toBe(0);
    expect(statSync(target).mode & 0o777).toBe(0o600);

    expect(failureLine(await verifyd(["backup", database, "--force", "--database", database]), 2)).toContain("is the database itself");
    // Nor SQLite's files beside it, which hold committed changes: with a -wal, whether it exists now or not.
    const wal = `${database}-wal`;
    const walBefore = existsSync(wal) ? readFileSync(wal) : undefined;
    for (const beside of [wal, `${database}-shm`, `${database}-journal`]) {
      expect(failureLine(await verifyd(["backup", beside, "--force", "--database", database]), 2)).toContain(
        "is the database itself or one of SQLite's files beside it",
      );
    }
    expect(existsSync(wal) ? readFileSync(wal) : undefined).toEqual(walBefore);
    const missing = join(tempDirectory(), "no-such-directory", "copy.sqlite");
    expect(failureLine(await verifyd(["backup", missing, "--database", database]), 2)).toContain(`the directory ${join(missing, "..")} does not exist`);
  }, 90_000);
});

describe("restore", () => {
  it("puts a backup in place after a crash: what the killed server's -wal held is not replayed onto it", async () => {
    const database = tempDatabase();
    const server = await startServerProcess(database, { env: { VERIFYD_KEYS: keys } });
    const before = await addUser(server);
    const copy = join(tempDirectory(), "copy.sqlite");
    expect((await verifyd(["backup", copy, "--database", database])).exitCode).toBe(0);
    const after = await addUser(server);

    // Refused while the server has the database open.
    expect(failureLine(await verifyd(["restore", copy, "--database", database]), 2)).toContain("1 verifyd process has");
    server.child.kill("SIGKILL");
    await server.exited;
    expect(existsSync(`${database}-wal`)).toBe(true);
    // The killed server's presence, 30 s later.
    const presence = `${database}-open`;
    for (const name of readdirSync(presence)) utimesSync(join(presence, name), new Date(0), new Date(0));

    const restored = await verifyd(["restore", copy, "--database", database]);
    expect(restored.exitCode, restored.stderr).toBe(0);
    const kept = /kept as (\S+\.replaced-\d{8}T\d{6}Z) /.exec(restored.stdout)?.[1];
    expect(restored.stdout).toBe(
      `restored ${database} from ${copy} (quick_check ok); the database it replaced is kept as ${kept} (delete it once this one is checked); start the servers with the keys it was made with\n`,
    );
    expect(existsSync(`${database}-wal`)).toBe(false);
    expect(statSync(database).mode & 0o777).toBe(0o600);

    const again = await startServerProcess(database, { env: { VERIFYD_KEYS: keys }, args: ["--admin-token-file", server.adminTokenFile] });
    expect((await rest(again.url, again.adminToken, "GET", `/v2/users/${before}`)).status).toBe(200);
    expect((await rest(again.url, again.adminToken, "GET", `/v2/users/${after}`)).status).toBe(404);
    await again.stop();

    // Nothing is lost by a restore run by mistake: the replaced database, with its killed server's -wal, opens as it was.
    expect(existsSync(`${kept}-wal`)).toBe(true);
    const replaced = await startServerProcess(kept!, { env: { VERIFYD_KEYS: keys }, args: ["--admin-token-file", server.adminTokenFile] });
    expect((await rest(replaced.url, replaced.adminToken, "GET", `/v2/users/${after}`)).status).toBe(200);
  }, 90_000);

  it("refuses what is not a backup, and leaves the database as it was", async () => {
    const database = tempDatabase();
    expect((await verifyd(["migrate", "--database", database])).exitCode).toBe(0);
    const original = readFileSync(database);
    const notADatabase = join(tempDirectory(), "notes.txt");
    writeFileSync(notADatabase, "not a database at all, but long enough to be read as a header by SQLite........");
    expect(failureLine(await verifyd(["restore", notADatabase, "--database", database]), 1)).toContain("cannot be read as a database");
    const missing = join(tempDirectory(), "missing.sqlite");
    expect(failureLine(await verifyd(["restore", missing, "--database", database]), 2)).toContain("does not exist");
    const other = join(tempDirectory(), "other.sqlite");
    new Database(other).exec("CREATE TABLE notes (text TEXT)");
    expect(failureLine(await verifyd(["restore", other, "--database", database]), 1)).toContain("not verifyd's");
    // A link to the database is the database itself (a white-box review: it passed as a copy).
    const link = join(tempDirectory(), "link.sqlite");
    symlinkSync(database, link);
    expect(failureLine(await verifyd(["restore", link, "--database", database]), 2)).toContain("is the database itself");
    // A sound copy, into a directory that does not exist (noted by a trial: ENOENT, exit 1).
    const nowhere = join(tempDirectory(), "missing-directory");
    expect(failureLine(await verifyd(["restore", database, "--database", join(nowhere, "verifyd.sqlite")]), 2)).toBe(
      `verifyd: cannot restore into ${join(nowhere, "verifyd.sqlite")}: the directory ${nowhere} does not exist; create it first; see verifyd restore --help`,
    );
    expect(readFileSync(database)).toEqual(original);
  }, 60_000);
});

describe("a database copied in", () => {
  // A white-box review: a file copied in with cp or scp under umask 022 stayed readable by every user, and SQLite gave
  // its -wal and -shm the same mode.
  it("is made owner-only at start, with its -wal and -shm", async () => {
    const database = tempDatabase();
    expect((await verifyd(["migrate", "--database", database])).exitCode).toBe(0);
    chmodSync(database, 0o644);
    const server = await startServerProcess(database, { env: { VERIFYD_KEYS: keys } });
    try {
      for (const file of [database, `${database}-wal`, `${database}-shm`]) expect(statSync(file).mode & 0o777, file).toBe(0o600);
    } finally {
      await server.stop();
    }
  }, 60_000);
});

describe("outbox", () => {
  it("lists a message the receiver refused for good, and retries it with the same webhook id", async () => {
    const receiver = await startWebhookReceiver();
    try {
      receiver.answers.push(400);
      const database = tempDatabase();
      const server = await startServerProcess(database, {
        args: ["--sms-webhook-url", `${receiver.url}/sms`],
        env: { VERIFYD_WEBHOOK_SECRET: receiver.secret },
      });
      const phone = uniqueMobile();
      const userId = await addUser(server, { phone: { phone, sendCode: {} } });
      await receiver.waitForRequests(1);
      await until("the message dead", () => server.stderr.some((line) => line.includes("message dead")));
      const [messageId] = receiver.webhookIds();

      const table = await verifyd(["outbox", "list-dead", "--database", database]);
      expect(table.exitCode, table.stderr).toBe(0);
      const [header, row, ...rest] = table.stdout.trimEnd().split("\n");
      expect(header).toMatch(/^ID\s+CHANNEL\s+USER\s+ATTEMPTS\s+CREATED\s+LAST FAILURE\s+EXPIRES\s+LAST ERROR$/);
      expect(row).toMatch(new RegExp(`^${messageId}\\s+phone\\s+${userId}\\s+1\\s+\\S+Z\\s+\\S+Z\\s+\\S+Z\\s+\\S`));
      expect(rest).toEqual([]);
      // The number stays sealed; not even its last digits are shown.
      expect(table.stdout).not.toContain(phone.slice(-4));

      const json = await verifyd(["outbox", "list-dead", "--json", "--database", database]);
      expect(JSON.parse(json.stdout)).toEqual([
        {
          id: messageId,
          userId,
          channel: "phone",
          attempts: 1,
          lastError: expect.any(String),
          createdAt: expect.any(String),
          lastFailureAt: expect.any(String),
          expiresAt: expect.any(String),
        },
      ]);

      const partly = await verifyd(["outbox", "retry", messageId!, "913000000000000000", "--database", database]);
      expect(partly.stdout).toBe("retried 1 message(s)\n");
      expect(failureLine(partly, 1)).toBe(
        "verifyd: 1 of the 2 given messages are not dead, or their code expired; see verifyd outbox list-dead",
      );
      await receiver.waitForRequests(2);
      expect(receiver.webhookIds()).toEqual([messageId]);
      expect(receiver.verify(receiver.received[1]!).data).toMatchObject({ to: phone });

      await until("the retry recorded", () => server.stderr.some((line) => line.includes("message delivered")));
      expect((await verifyd(["outbox", "list-dead", "--database", database])).stdout).toBe("no dead messages\n");
      expect(await verifyd(["outbox", "retry", "--all", "--json", "--database", database])).toEqual({
        exitCode: 0,
        stdout: '{"retried":0}\n',
        stderr: "",
      });
    } finally {
      await receiver.close();
    }
  }, 90_000);
});

describe("keys generate", () => {
  it("prints one keyring entry, which a server takes as its new current key", async () => {
    const run = await verifyd(["keys", "generate", "--id", "2026-rotation"]);
    expect(run.exitCode, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^2026-rotation:[A-Za-z0-9+/]{43}=\n$/);
    expect(Buffer.from(run.stdout.trim().split(":")[1]!, "base64")).toHaveLength(32);
    expect((await verifyd(["keys", "generate"])).stdout).toMatch(/^\d{8}T\d{6}Z:\S{44}\n$/);

    // Rotation as its --help shows it: the new key first, the old one after it.
    const server = await startServerProcess(tempDatabase(), { env: { VERIFYD_KEYS: `${run.stdout.trim()},${keys}` } });
    await server.stop();
  }, 90_000);

  it("refuses one id given twice, whichever key comes first, without showing either", async () => {
    const [first, second] = [Buffer.alloc(32, 7).toString("base64"), Buffer.alloc(32, 9).toString("base64")];
    for (const list of [`k9:${first},k9:${second}`, `k9:${second},k9:${first}`]) {
      const line = failureLine(await verifyd(["--database", tempDatabase()], { VERIFYD_KEYS: list }), 2);
      expect(line).toBe('verifyd: --keys / VERIFYD_KEYS: key "k9" is given twice; each id names one key');
    }
  });
});

describe("admin token", () => {
  it("names a mistyped database before the token file beside it", async () => {
    const directory = tempDirectory();
    writeFileSync(join(directory, "admin-token"), "an earlier token\n");
    const database = join(directory, "typo.sqlite");
    const line = failureLine(await verifyd(["admin", "token", "--database", database]), 2);
    expect(line).toContain(database);
    expect(line).not.toContain("exists; give another file");
  });

  it("refuses to replace an existing token file without --force, issuing nothing", async () => {
    const database = tempDatabase();
    const server = await startServerProcess(database);
    await server.stop();
    const line = failureLine(await verifyd(["admin", "token", "--database", database]), 2);
    expect(line).toBe(`verifyd: ${server.adminTokenFile} exists; give another file, or --force to replace it; see verifyd admin token --help`);
    expect(readFileSync(server.adminTokenFile, "utf8").trim()).toBe(server.adminToken);
    const sqlite = openLiveDatabase(database, { readonly: true });
    expect(sqlite.prepare("SELECT count(*) AS n FROM access_tokens").get()).toEqual({ n: 1 });
    sqlite.close();
  });

  it("refuses a directory given as the token file, on the first start and in `admin token`, saying so", async () => {
    const directory = tempDirectory();
    const database = join(directory, "verifyd.sqlite");
    const first = await verifyd(["--database", database, "--admin-token-file", directory, "--port", "0"]);
    const refusal = `verifyd: the admin token file ${directory} is a directory; give the path of a file in it, or choose another file with --admin-token-file / ADMIN_TOKEN_FILE`;
    expect(first.exitCode).toBe(2);
    expect(first.stderr.split("\n")).toContain(refusal);
    await startServerProcess(database);
    for (const force of [[], ["--force"]]) {
      expect(failureLine(await verifyd(["admin", "token", directory, ...force, "--database", database]), 2)).toBe(refusal);
    }
  });

  it("issues a new IAM_OWNER token into the lost token file, owner-only, never printed, recorded in the security log", async () => {
    const database = tempDatabase();
    const server = await startServerProcess(database);
    rmSync(server.adminTokenFile);

    const run = await verifyd(["admin", "token", "--database", database]);
    expect(run.exitCode, run.stderr).toBe(0);
    expect(statSync(server.adminTokenFile).mode & 0o777).toBe(0o600);
    const token = readFileSync(server.adminTokenFile, "utf8").trim();
    expect(token).not.toBe(server.adminToken);
    const issued = /^issued token (\d+) for the administrator (\d+), valid until \S+Z, written to (\S+) \(owner-only\)\n$/.exec(run.stdout);
    const [, tokenId, adminId] = issued ?? [];
    expect(issued?.[3]).toBe(server.adminTokenFile);
    expect(run.stdout + run.stderr).not.toContain(token);

    // The new token acts as IAM_OWNER: only an IAM_OWNER reads the security log, which records its creation.
    const log = await rest(server.url, token, "POST", "/verifyd/v1/security_events/_search", { kinds: ["token.created"] });
    expect(log.status, JSON.stringify(log.body)).toBe(200);
    expect(log.body.result).toContainEqual(expect.objectContaining({ detail: { tokenId, kind: "personal", origin: "cli" } }));
    expect(JSON.stringify(log.body)).not.toContain(token);
    // The earlier token stays valid until removed.
    expect((await rest(server.url, server.adminToken, "GET", `/v2/users/${adminId}`)).status).toBe(200);

    // The file is not replaced without --force; --print writes none and prints the token alone.
    expect(failureLine(await verifyd(["admin", "token", "--database", database]), 2)).toContain(`${server.adminTokenFile} exists`);
    const printed = await verifyd(["admin", "token", "--print", "--database", database]);
    expect(printed.exitCode, printed.stderr).toBe(0);
    expect(printed.stdout).toMatch(/^[A-Za-z0-9_-]{43}\n$/);
    expect(printed.stderr).not.toContain(printed.stdout.trim());
    expect((await rest(server.url, printed.stdout.trim(), "GET", `/v2/users/${adminId}`)).status).toBe(200);
    expect(readFileSync(server.adminTokenFile, "utf8").trim()).toBe(token);
  }, 90_000);

  it("refuses a token file it cannot write, issuing nothing, and a database no server has started on", async () => {
    const database = tempDatabase();
    const server = await startServerProcess(database);
    await server.stop();
    const notADirectory = join(tempDirectory(), "a-file");
    writeFileSync(notADirectory, "");
    const file = join(notADirectory, "tokens", "admin-token");
    const line = failureLine(await verifyd(["admin", "token", file, "--database", database]), 2);
    expect(line).toMatch(new RegExp(`^verifyd: cannot write the admin token file ${file} \\(ENOTDIR\\).*--admin-token-file / ADMIN_TOKEN_FILE$`));
    const tokens = openLiveDatabase(database, { readonly: true });
    expect(tokens.prepare("SELECT count(*) FROM access_tokens").pluck().get()).toBe(1);
    tokens.close();

    const fresh = tempDatabase();
    expect((await verifyd(["migrate", "--database", fresh])).exitCode).toBe(0);
    expect(failureLine(await verifyd(["admin", "token", "--print", "--database", fresh]), 1)).toContain("has no administrator yet");
  }, 90_000);
});

describe("the compiled build", () => {
  // Laid out as a container image would be: the build beside package.json (for "type": "module") and node_modules.
  let build: string;
  beforeAll(() => {
    build = tempDirectory();
    execFileSync("npm", ["run", "--silent", "build", "--", "--out-dir", join(build, "dist"), "--skip-typecheck"], { cwd: repoRoot, stdio: "pipe" });
    copyFileSync(join(repoRoot, "package.json"), join(build, "package.json"));
    symlinkSync(join(repoRoot, "node_modules"), join(build, "node_modules"));
  }, 120_000);

  it("runs as an executable (package.json's verifyd bin): version, migrations and serving", async () => {
    const bin = join(build, "dist", "main.js");
    expect(statSync(bin).mode & 0o111).toBe(0o111);
    expect(readFileSync(bin, "utf8").split("\n")[0]).toBe("#!/usr/bin/env node");
    const { version } = JSON.parse(readFileSync(join(repoRoot, "package.json"), "utf8")) as { version: string };
    expect((await verifyd(["--version"], {}, [bin])).stdout).toBe(`verifyd ${version}\n`);

    const database = tempDatabase();
    expect((await verifyd(["migrate", "--check", "--database", database], {}, [bin])).exitCode).toBe(2);
    const applied = await verifyd(["migrate", "--database", database], {}, [bin]);
    expect(applied.stdout).toContain(`applied ${migrationTags().at(-1)}\n`);
    const server = await startServerProcess(database, { command: [bin] });
    expect((await fetch(`${server.url}/readyz`)).status).toBe(200);
    expect(await server.stop()).toEqual({ code: 0, signal: null });
  }, 90_000);
});
