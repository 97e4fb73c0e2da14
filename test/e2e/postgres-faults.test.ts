// PostgreSQL unreachable under a running verifyd: calls fail with Unavailable (gRPC 14, HTTP 503) instead of
// hanging or crashing, readiness turns NOT_SERVING, and once the database is back the process recovers by itself with
// every change it acknowledged before. The database is cut off through a TCP proxy, as a restart or a network
// partition would, without stopping the server other tests share.
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { Code, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Health, HealthCheckResponse_ServingStatus as Status } from "../../src/gen/grpc/health/v1/health_pb.js";
import { uniqueMobile } from "../helpers/api-session.js";
import { expectOk, protocolClient } from "../helpers/protocol-clients.js";
import { type PostgresDatabase, newPostgresDatabase, onPostgresServer } from "../helpers/postgres-database.js";
import { type ServerProcess, startServerProcess, stopAllServerProcesses } from "../helpers/server-process.js";
import { type TcpProxy, startTcpProxy } from "../helpers/tcp-proxy.js";

const profile = { givenName: "Ada", familyName: "Lovelace" };
const keys = `1:${randomBytes(32).toString("base64")}`;

let database: PostgresDatabase;
let proxy: TcpProxy;
let server: ServerProcess;
let directory: string;

beforeAll(async () => {
  database = await newPostgresDatabase();
  const direct = new URL(database.url);
  proxy = await startTcpProxy({ host: direct.hostname, port: Number(direct.port || 5432) });
  const viaProxy = new URL(database.url);
  viaProxy.port = String(proxy.port);
  directory = mkdtempSync(join(tmpdir(), "verifyd-postgres-faults-"));
  server = await startServerProcess(viaProxy.toString(), {
    args: ["--admin-token-file", join(directory, "admin-token"), "--database-connect-timeout", "1s"],
    env: { VERIFYD_KEYS: keys },
  });
}, 60_000);

afterAll(async () => {
  await stopAllServerProcesses();
  await proxy?.close();
  await database?.drop();
  rmSync(directory, { recursive: true, force: true });
});

const readiness = async () => (await fetch(`${server.url}/readyz`)).status;

describe("PostgreSQL unreachable, then back", () => {
  it("answers Unavailable and not ready while it is gone, and recovers by itself with nothing acknowledged lost", async () => {
    const rest = protocolClient("rest", server.url, server.adminToken);
    const grpc = protocolClient("grpc", server.url, server.adminToken);
    const users: { userId: string; code: string }[] = [];
    while (users.length < 120) {
      const added = expectOk(await grpc.call("addHumanUser", { profile, phone: { phone: uniqueMobile(), returnCode: {} } }));
      users.push({ userId: added.userId as string, code: added.phoneCode as string });
    }
    expect(await readiness()).toBe(200);

    // Four calls in flight at all times, through the outage and after it; each is acknowledged or Unavailable, and an
    // Unavailable one is tried again. A cut between COMMIT and its answer leaves the outcome unknown to the caller, as
    // in any networked database: the retry then finds the number verified (FailedPrecondition), which is no loss.
    const acknowledged: string[] = [];
    const refusals = new Map<number, number>();
    const retried = new Set<string>();
    const pending = [...users];
    const worker = async () => {
      for (let next = pending.shift(); next; next = pending.shift()) {
        const result = await grpc.call("verifyPhone", { userId: next.userId, verificationCode: next.code });
        if (result.ok) acknowledged.push(next.userId);
        else if (result.code === Code.FailedPrecondition && retried.has(next.userId)) continue;
        else {
          refusals.set(result.code, (refusals.get(result.code) ?? 0) + 1);
          retried.add(next.userId);
          pending.push(next);
          await sleep(20);
        }
      }
    };
    const load = Promise.all(Array.from({ length: 4 }, worker));
    await expect.poll(() => acknowledged.length).toBeGreaterThanOrEqual(10);

    await proxy.cut();
    const overRest = await rest.call("getUserByID", { userId: users[0]!.userId });
    expect(overRest).toMatchObject({ ok: false, httpStatus: 503 });
    await expect.poll(readiness, { timeout: 10_000 }).toBe(503);
    // The scrape still answers, with the outage in it: a failed scrape would hide every other metric.
    const scraped = await fetch(`${server.url}/metrics`);
    expect(scraped.status).toBe(200);
    expect(await scraped.text()).toMatch(/^verifyd_storage_healthy 0$/m);
    const health = createClient(Health, createGrpcTransport({ baseUrl: server.url }));
    expect((await health.check({})).status).toBe(Status.NOT_SERVING);
    await expect.poll(() => refusals.get(Code.Unavailable) ?? 0).toBeGreaterThan(0);

    const beforeRestore = acknowledged.length;
    await proxy.restore();
    await expect.poll(readiness, { timeout: 15_000, interval: 250 }).toBe(200);
    await load;
    expect(acknowledged.length).toBeGreaterThan(beforeRestore);
    // Every refusal was Unavailable, and every user is verified in the end: each acknowledged one, and the retried ones.
    expect([...refusals.keys()]).toEqual([Code.Unavailable]);
    const [verified] = await database.query<{ n: string }>(
      "SELECT count(*) AS n FROM users WHERE id = ANY($1) AND verified_phone IS NOT NULL",
      [users.map((user) => user.userId)],
    );
    expect(verified?.n).toBe(String(users.length));
    expect(server.child.exitCode).toBeNull();
  }, 60_000);
});

describe("PostgreSQL back while nobody calls", () => {
  it("is noticed within about a second: the first readiness check after it says ready", async () => {
    const grpc = protocolClient("grpc", server.url, server.adminToken);
    await proxy.cut();
    expect(await grpc.call("addHumanUser", { profile, phone: { phone: uniqueMobile(), returnCode: {} } })).toMatchObject({ ok: false, code: Code.Unavailable });
    await expect.poll(readiness, { timeout: 10_000 }).toBe(503);
    const recoveredLines = () => server.stderr.filter((line) => line.includes("storage writes work again")).length;
    const recoveredBefore = recoveredLines();
    await proxy.restore();
    // No call and no check meanwhile: before, the episode lasted until someone asked, and the first check after the
    // database came back still said 503 (a probe's answer counted for the next check), keeping the instance out of a
    // balancer for one more readiness period.
    await sleep(2_500);
    expect(recoveredLines()).toBe(recoveredBefore + 1);
    expect(await readiness()).toBe(200);
  }, 30_000);
});

// A lock another session holds past the statement timeout fails the calls that wait on it, on every instance alike;
// calls that need no such lock go on working, so it is no failure of this instance's storage: readiness stays, and the
// refusal says the database is busy, when to try again, and is one warning a minute rather than an error episode.
describe("a table locked past the statement timeout", () => {
  it("answers STORAGE_BUSY with a Retry-After, stays ready, and serves once the lock is gone", async () => {
    const locked = await newPostgresDatabase();
    const lockHolder = new pg.Client({ connectionString: locked.url });
    try {
      const instance = await startServerProcess(locked.url, {
        args: ["--admin-token-file", join(directory, "locked-admin-token"), "--database-statement-timeout", "1s"],
        env: { VERIFYD_KEYS: `1:${randomBytes(32).toString("base64")}` },
      });
      const rest = protocolClient("rest", instance.url, instance.adminToken);
      const addUser = () => rest.call("addHumanUser", { profile, phone: { phone: uniqueMobile(), returnCode: {} } });
      expectOk(await addUser());

      await lockHolder.connect();
      await lockHolder.query("BEGIN");
      await lockHolder.query("LOCK TABLE users IN ACCESS EXCLUSIVE MODE");
      const refused = await addUser();
      expect(refused).toMatchObject({ ok: false, httpStatus: 503, retryAfter: "1", errorInfo: { reason: "STORAGE_BUSY" } });
      expect(await fetch(`${instance.url}/readyz`).then((answer) => answer.status)).toBe(200);
      await lockHolder.query("ROLLBACK");

      expectOk(await addUser());
      expect(instance.stderr.filter((line) => line.includes("storage failing"))).toEqual([]);
      expect(instance.stderr.filter((line) => line.includes("storage busy"))).toHaveLength(1);
      await instance.stop();
    } finally {
      await lockHolder.end();
      await locked.drop();
    }
  }, 30_000);
});

// An operator closing the database to new connections (ALTER DATABASE … ALLOW_CONNECTIONS false, its sessions ended)
// makes PostgreSQL answer each connection with SQLSTATE 55000; a server turned read-only (a standby after a failover,
// or default_transaction_read_only) answers each write with 25006. Either way the server is up but cannot serve, which
// callers must see as Unavailable rather than as a fault of verifyd's.
describe.each([
  {
    state: "closed to new connections",
    close: (name: string) => [`ALTER DATABASE ${name} ALLOW_CONNECTIONS false`],
    open: (name: string) => [`ALTER DATABASE ${name} ALLOW_CONNECTIONS true`],
  },
  {
    state: "read-only",
    close: (name: string) => [`ALTER DATABASE ${name} SET default_transaction_read_only = on`],
    open: (name: string) => [`ALTER DATABASE ${name} RESET default_transaction_read_only`],
  },
])("a PostgreSQL database $state", ({ close, open }) => {
  it("answers Unavailable and not ready, logs the episode once, and recovers when the database serves again", async () => {
    const closable = await newPostgresDatabase();
    const name = new URL(closable.url).pathname.slice(1);
    // The database's sessions are ended each time, so that the change reaches every connection the server holds.
    const operate = (statements: string[]) =>
      onPostgresServer(async (client) => {
        for (const statement of statements) await client.query(statement);
        await client.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1", [name]);
      });
    try {
      const closing = await startServerProcess(closable.url, {
        args: ["--admin-token-file", join(directory, `${name}-admin-token`), "--database-connect-timeout", "1s"],
        env: { VERIFYD_KEYS: `1:${randomBytes(32).toString("base64")}` },
      });
      const grpc = protocolClient("grpc", closing.url, closing.adminToken);
      const rest = protocolClient("rest", closing.url, closing.adminToken);
      const addUser = () => grpc.call("addHumanUser", { profile, phone: { phone: uniqueMobile(), returnCode: {} } });
      const added = expectOk(await addUser());
      // Calls at once, so that the pool holds several connections for the operator to end.
      await Promise.all(Array.from({ length: 8 }, () => rest.call("getUserByID", { userId: added.userId })));

      await operate(close(name));
      expect(await addUser()).toMatchObject({ ok: false, code: Code.Unavailable, errorInfo: { reason: "STORAGE_UNAVAILABLE" } });
      expect(await rest.call("addHumanUser", { profile, phone: { phone: uniqueMobile(), returnCode: {} } })).toMatchObject({
        ok: false,
        httpStatus: 503,
      });
      await expect.poll(async () => (await fetch(`${closing.url}/readyz`)).status, { timeout: 10_000 }).toBe(503);
      // Long enough for the outbox worker to have tried several times: it waits, quietly, like every caller.
      await sleep(1_500);
      const errors = closing.stderr.filter((line) => line.includes('"level":"error"'));
      expect(errors, closing.stderr.join("\n")).toHaveLength(1);
      expect(errors[0]).toContain("storage failing");
      // Every pooled connection ended at once is one warning with their count, not a line each.
      const dropped = closing.stderr.filter((line) => line.includes("PostgreSQL dropped a connection"));
      expect(dropped.length, dropped.join("\n")).toBeLessThanOrEqual(1);
      expect(closing.stderr.join("\n")).not.toMatch(/^\s+at /m);

      await operate(open(name));
      await expect.poll(async () => (await fetch(`${closing.url}/readyz`)).status, { timeout: 15_000, interval: 250 }).toBe(200);
      expectOk(await rest.call("getUserByID", { userId: added.userId }));
      expectOk(await addUser());
      expect(closing.child.exitCode).toBeNull();
      await closing.stop();
    } finally {
      await closable.drop();
    }
  }, 60_000);
});

// Two instances on one database, one of them reaching it through a proxy that can make its network hang: a hung
// connection must not hold its calls, and a process stopped mid-transaction must not hold the other instance's calls
// on the same users (a trial of three instances: one paused process stopped the others' sends for 10 s, then they
// answered 503 and reported their storage failing; a frozen network held calls 45 s, then answered 200).
describe("an instance whose database connection hangs, beside a healthy one", () => {
  const statementTimeout = ["--database-statement-timeout", "2s"];
  let hanging: TcpProxy;
  let behindProxy: ServerProcess;
  let healthy: ServerProcess;

  beforeAll(async () => {
    const direct = new URL(database.url);
    hanging = await startTcpProxy({ host: direct.hostname, port: Number(direct.port || 5432) });
    const viaProxy = new URL(database.url);
    viaProxy.port = String(hanging.port);
    const env = { VERIFYD_KEYS: keys };
    const adminToken = ["--admin-token-file", join(directory, "admin-token")];
    behindProxy = await startServerProcess(viaProxy.toString(), { args: [...adminToken, ...statementTimeout], env });
    healthy = await startServerProcess(database.url, { args: [...adminToken, ...statementTimeout], env });
  }, 60_000);

  afterAll(async () => {
    hanging?.thaw();
    await hanging?.close();
  });

  const userWithCode = async () => {
    const added = expectOk(
      await protocolClient("grpc", healthy.url, healthy.adminToken).call("addHumanUser", { profile, phone: { phone: uniqueMobile(), returnCode: {} } }),
    );
    return { userId: added.userId as string, verificationCode: added.phoneCode as string };
  };

  it("answers Unavailable while the network hangs, without waiting for it to come back, and serves once it does", async () => {
    const user = await userWithCode();
    const grpc = protocolClient("grpc", behindProxy.url, behindProxy.adminToken);
    hanging.freeze();
    try {
      // Before, this waited as long as the network hung: here, until the test timed out.
      expect(await grpc.call("verifyPhone", user)).toMatchObject({ ok: false, code: Code.Unavailable });
    } finally {
      hanging.thaw();
    }
    await expect.poll(async () => (await grpc.call("verifyPhone", user)).ok, { timeout: 15_000, interval: 250 }).toBe(true);
  }, 30_000);

  it("a process stopped before its COMMIT holds the other instance's calls on the same user only until the server ends its session", async () => {
    const user = await userWithCode();
    hanging.freeze("COMMIT");
    try {
      const stopped = protocolClient("grpc", behindProxy.url, behindProxy.adminToken).call("verifyPhone", user);
      await expect
        .poll(async () => (await database.query("SELECT 1 FROM pg_stat_activity WHERE state = 'idle in transaction'")).length, { timeout: 10_000 })
        .toBe(1);
      // The healthy instance waits for the user's row until the server ends the stopped session (after half of the
      // statement timeout), then verifies; before, it waited out its own statement timeout and answered Unavailable.
      expect(await protocolClient("grpc", healthy.url, healthy.adminToken).call("verifyPhone", user)).toMatchObject({ ok: true });
      hanging.thaw();
      // The stopped process's change was never committed.
      expect(await stopped).toMatchObject({ ok: false, code: Code.Unavailable });
    } finally {
      hanging.thaw();
    }
    expect(healthy.child.exitCode).toBeNull();
    expect(behindProxy.child.exitCode).toBeNull();
  }, 30_000);
});
