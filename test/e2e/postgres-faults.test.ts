// PostgreSQL unreachable under a running verifyd: calls fail with Unavailable (gRPC 14, HTTP 503) instead of
// hanging or crashing, readiness turns NOT_SERVING, and once the database is back the process recovers by itself with
// every change it acknowledged before. The database is cut off through a TCP proxy, as a restart or a network
// partition would, without stopping the server other tests share.
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Health, HealthCheckResponse_ServingStatus as Status } from "../../src/gen/grpc/health/v1/health_pb.js";
import { uniqueMobile } from "../helpers/api-session.js";
import { expectOk, protocolClient } from "../helpers/protocol-clients.js";
import { type PostgresDatabase, newPostgresDatabase } from "../helpers/postgres-database.js";
import { type ServerProcess, startServerProcess, stopAllServerProcesses } from "../helpers/server-process.js";
import { type TcpProxy, startTcpProxy } from "../helpers/tcp-proxy.js";

const profile = { givenName: "Ada", familyName: "Lovelace" };

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
    env: { VERIFYD_KEYS: `1:${randomBytes(32).toString("base64")}` },
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
    const before = expectOk(await rest.call("addHumanUser", { profile, phone: { phone: uniqueMobile(), returnCode: {} } }));
    const userId = before.userId as string;
    expect(await readiness()).toBe(200);

    await proxy.cut();
    const overGrpc = await grpc.call("verifyPhone", { userId, verificationCode: before.phoneCode as string });
    expect(overGrpc).toMatchObject({ ok: false, code: 14 });
    const overRest = await rest.call("getUserByID", { userId });
    expect(overRest).toMatchObject({ ok: false, httpStatus: 503 });
    await expect.poll(readiness, { timeout: 10_000 }).toBe(503);
    const health = createClient(Health, createGrpcTransport({ baseUrl: server.url }));
    expect((await health.check({})).status).toBe(Status.NOT_SERVING);

    await proxy.restore();
    await expect.poll(readiness, { timeout: 15_000, interval: 250 }).toBe(200);
    const verified = await grpc.call("verifyPhone", { userId, verificationCode: before.phoneCode as string });
    expect(verified.ok).toBe(true);
    const user = expectOk(await rest.call("getUserByID", { userId }));
    expect((user.user as { human: { phone: { isVerified?: boolean } } }).human.phone.isVerified).toBe(true);
    expect(server.child.exitCode).toBeNull();
  });
});
