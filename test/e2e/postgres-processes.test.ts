// Three verifyd processes on one PostgreSQL database, as a team running several instances behind one address would
// have them: every guarantee that counts or claims (one bootstrap, single use of a code, its attempt count, send
// limits, each message delivered once) holds in total across the processes, and a process killed with SIGKILL under
// load loses no verification it acknowledged.
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildMigrations } from "../../src/store/migration-journal.js";
import { migrationsFolder } from "../../src/store/postgres/open-postgres.js";
import { type CallResult, expectOk, protocolClient } from "../helpers/protocol-clients.js";
import { uniqueMobile } from "../helpers/api-session.js";
import { type PostgresDatabase, newPostgresDatabase } from "../helpers/postgres-database.js";
import { type ServerProcess, startServerProcess, stopAllServerProcesses } from "../helpers/server-process.js";
import { type WebhookReceiver, startWebhookReceiver } from "../helpers/webhook-receiver.js";

const profile = { givenName: "Ada", familyName: "Lovelace" };
const sendsPerDestination = 3;

let database: PostgresDatabase;
let directory: string;
let receiver: WebhookReceiver;
let servers: ServerProcess[];

/** The flags and environment every process gets: the same database, keys, token file and webhook. */
function processOptions() {
  return {
    args: [
      "--admin-token-file", join(directory, "admin-token"),
      "--sms-webhook-url", `${receiver.url}/sms`,
      "--sends-per-destination-10m", String(sendsPerDestination),
      "--send-cooldown", "0s",
    ],
    env: { VERIFYD_KEYS: keys, VERIFYD_WEBHOOK_SECRET: "" },
  };
}
const keys = `1:${randomBytes(32).toString("base64")}`;

beforeAll(async () => {
  database = await newPostgresDatabase();
  directory = mkdtempSync(join(tmpdir(), "verifyd-postgres-"));
  receiver = await startWebhookReceiver();
  const options = processOptions();
  options.env.VERIFYD_WEBHOOK_SECRET = receiver.secret;
  // All three at once: they race to migrate the empty database and to bootstrap the instance.
  servers = await Promise.all([0, 1, 2].map(() => startServerProcess(database.url, options)));
}, 120_000);

afterAll(async () => {
  await stopAllServerProcesses();
  await receiver?.close();
  await database?.drop();
  rmSync(directory, { recursive: true, force: true });
});

const client = (server: ServerProcess, protocol: "rest" | "grpc" = "rest") => protocolClient(protocol, server.url, server.adminToken);

async function userWithPhoneCode(server: ServerProcess): Promise<{ userId: string; code: string }> {
  const added = expectOk(await client(server).call("addHumanUser", { profile, phone: { phone: uniqueMobile(), returnCode: {} } }));
  return { userId: added.userId as string, code: added.phoneCode as string };
}

const succeeded = (results: CallResult[]) => results.filter((result) => result.ok).length;

describe("three verifyd processes on one PostgreSQL database", () => {
  it("migrated and bootstrapped once, though all three started at the same moment", async () => {
    const [instance] = await database.query<{ n: string }>("SELECT count(*) AS n FROM instance");
    const [admins] = await database.query<{ n: string }>("SELECT count(*) AS n FROM users WHERE username = 'admin' AND kind = 'machine'");
    const [migrations] = await database.query<{ n: string }>("SELECT count(*) AS n FROM drizzle.__drizzle_migrations");
    expect([instance?.n, admins?.n, migrations?.n]).toEqual(["1", "1", String(buildMigrations(migrationsFolder).length)]);
    expect(new Set(servers.map((server) => server.adminToken)).size).toBe(1);
  });

  it("accepts the same correct code submitted to all three at once exactly once", async () => {
    for (let round = 0; round < 5; round++) {
      const { userId, code } = await userWithPhoneCode(servers[0]!);
      const results = await Promise.all(
        servers.map((server, i) => client(server, i % 2 === 0 ? "grpc" : "rest").call("verifyPhone", { userId, verificationCode: code })),
      );
      expect(succeeded(results)).toBe(1);
      const events = await database.query<{ n: string }>(
        "SELECT count(*) AS n FROM events WHERE aggregate_id = $1 AND type = 'user.human.phone.verified'",
        [userId],
      );
      expect(events[0]?.n).toBe("1");
    }
  });

  it("kills the code after five wrong attempts spread over the three at once", async () => {
    const { userId, code } = await userWithPhoneCode(servers[1]!);
    const wrong = code === "000000" ? "111111" : "000000";
    const attempts = await Promise.all(
      [0, 1, 2, 3, 4].map((i) => client(servers[i % 3]!).call("verifyPhone", { userId, verificationCode: wrong })),
    );
    expect(succeeded(attempts)).toBe(0);
    const right = await client(servers[2]!).call("verifyPhone", { userId, verificationCode: code });
    expect(right.ok).toBe(false);
    const user = expectOk(await client(servers[0]!).call("getUserByID", { userId }));
    expect((user.user as { human: { phone: { isVerified?: boolean } } }).human.phone.isVerified ?? false).toBe(false);
  });

  it("holds a send limit in total across the processes, not per process", async () => {
    const phone = uniqueMobile();
    const results = await Promise.all(
      Array.from({ length: 9 }, (_, i) => client(servers[i % 3]!).call("addHumanUser", { profile, phone: { phone, sendCode: {} } })),
    );
    expect(succeeded(results)).toBe(sendsPerDestination);
    for (const refused of results.filter((result) => !result.ok)) expect(refused).toMatchObject({ code: 8 });
  });

  it("delivers each message once while the three outbox workers race for them", async () => {
    const phones = Array.from({ length: 12 }, () => uniqueMobile());
    const added = await Promise.all(
      phones.map((phone, i) => client(servers[i % 3]!).call("addHumanUser", { profile, phone: { phone, sendCode: {} } })),
    );
    const userIds = added.map((result) => expectOk(result).userId as string);
    // Only this test's messages: the previous test's may still be arriving.
    const ours = () => receiver.received.map((request) => receiver.verify(request).data).filter((data) => phones.includes(data.to));
    await expect.poll(() => ours().length, { timeout: 20_000 }).toBeGreaterThanOrEqual(phones.length);
    // Time for a second delivery of any message to arrive, if there were one.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(ours()).toHaveLength(phones.length);
    expect(new Set(ours().map((data) => data.messageId)).size).toBe(phones.length);
    const recorded = await database.query<{ n: string }>(
      "SELECT count(*) AS n FROM events WHERE type = 'user.human.phone.code.sent' AND aggregate_id = ANY($1)",
      [userIds],
    );
    expect(recorded[0]?.n).toBe(String(phones.length));
  });

  it("loses no acknowledged verification when a process is killed with SIGKILL under load", async () => {
    const victim = servers[2]!;
    const users = await Promise.all(Array.from({ length: 80 }, (_, i) => userWithPhoneCode(servers[i % 2]!)));
    const acknowledged: string[] = [];
    let cut = 0;
    // Eight calls in flight at all times; the kill comes once ten are acknowledged, with eight more under way.
    const worker = async () => {
      for (let next = users.shift(); next; next = users.shift()) {
        const result = await client(victim, "grpc").call("verifyPhone", { userId: next.userId, verificationCode: next.code });
        if (result.ok) acknowledged.push(next.userId);
        else cut++;
        if (acknowledged.length === 10 && victim.child.exitCode === null) victim.child.kill("SIGKILL");
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));
    expect(acknowledged.length).toBeGreaterThanOrEqual(10);
    expect(cut).toBeGreaterThan(0);
    for (const userId of acknowledged) {
      const user = expectOk(await client(servers[0]!).call("getUserByID", { userId }));
      expect((user.user as { human: { phone: { isVerified?: boolean } } }).human.phone.isVerified).toBe(true);
    }
  });
});
