// The standard gRPC health service, for load balancers and gRPC probes, and the plain HTTP probes: GET /healthz
// (alive) and GET /readyz (ready for calls), over HTTP/1.1 and HTTP/2, while serving, while shutting down and while
// the storage fails.
import { execFileSync } from "node:child_process";
import net from "node:net";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Health, HealthCheckResponse_ServingStatus as Status } from "../../src/gen/grpc/health/v1/health_pb.js";
import { type HttpVersion, type ProbeAnswer, probe } from "../helpers/probe-requests.js";
import { serverProcessDirectories, startServerProcess } from "../helpers/server-process.js";
import { type TestServer, startTestServer } from "../helpers/test-server.js";

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server.close();
});

describe("health", () => {
  const client = () => createClient(Health, createGrpcTransport({ baseUrl: server.url }));

  it("is SERVING for the server and for the user service, over gRPC", async () => {
    expect((await client().check({})).status).toBe(Status.SERVING);
    expect((await client().check({ service: "zitadel.user.v2.UserService" })).status).toBe(Status.SERVING);
  });

  it("answers NotFound for a service it does not offer", async () => {
    const error = await client()
      .check({ service: "no.such.Service" })
      .then(() => undefined, (reason: unknown) => ConnectError.from(reason));
    expect(error?.code).toBe(Code.NotFound);
  });

  it("streams the status to a watcher", async () => {
    const statuses: Status[] = [];
    for await (const response of client().watch({})) {
      statuses.push(response.status);
      break;
    }
    expect(statuses).toEqual([Status.SERVING]);
  });

  // A Python client's trial: watchers heard NOT_SERVING 5 s after the shutdown began (a poll), when the port had
  // closed already, and an open watch held every shutdown for its whole grace, then was cut.
  it("tells a watcher NOT_SERVING as a shutdown begins, while calls are still taken, and ends the watch when they stop", async () => {
    const stopping = await startTestServer();
    const health = createClient(Health, createGrpcTransport({ baseUrl: stopping.url }));
    const statuses: Status[] = [];
    const watching = (async () => {
      for await (const response of health.watch({})) statuses.push(response.status);
    })();
    await expect.poll(() => statuses).toEqual([Status.SERVING]);
    const closed = stopping.close({ delayMs: 3_000, graceMs: 60_000 });
    await expect.poll(() => statuses).toEqual([Status.SERVING, Status.NOT_SERVING]);
    // Still within the delay: the server takes calls, and says it is not serving.
    expect((await health.check({})).status).toBe(Status.NOT_SERVING);
    // The watch ends without an error once no call is taken, and the shutdown does not wait out its grace for it.
    await watching;
    await closed;
  }, 30_000);
});

const versions: HttpVersion[] = ["http/1.1", "h2"];
const json = (answer: ProbeAnswer): unknown => JSON.parse(answer.body);

describe.each(versions)("plain HTTP probes over %s", (version) => {
  it("answers GET /healthz 200 ALIVE and GET /readyz 200 READY, without a token, never cached", async () => {
    const alive = await probe(server.url, "/healthz", version);
    expect(alive).toMatchObject({ status: 200, contentType: "application/json", cacheControl: "no-store" });
    expect(json(alive)).toEqual({ status: "ALIVE" });
    const ready = await probe(server.url, "/readyz?verbose", version);
    expect(ready.status).toBe(200);
    expect(json(ready)).toEqual({ status: "READY" });
  });

  it("answers HEAD with the status alone", async () => {
    expect(await probe(server.url, "/readyz", version, { method: "HEAD" })).toMatchObject({ status: 200, body: "" });
  });

  it.each(["/healthz", "/readyz", "/metrics", "/openapi.json"])("answers any other method on %s 405 naming GET and HEAD, not 401", async (path) => {
    for (const method of ["POST", "PUT", "DELETE"]) {
      const refused = await probe(server.url, path, version, { method });
      expect(refused).toMatchObject({ status: 405, allow: "GET, HEAD", contentType: "application/json" });
      expect(json(refused)).toEqual({ code: 12, message: "Method Not Allowed" });
    }
  });

  it("answers /readyz 503 naming the outbox once its worker has stopped, /healthz still 200", async () => {
    const stopped = await startTestServer();
    try {
      await stopped.outbox.stop();
      const ready = await probe(stopped.url, "/readyz", version);
      expect(ready.status).toBe(503);
      expect(json(ready)).toEqual({ status: "NOT_READY", notReady: { outbox: "stopped" } });
      expect((await probe(stopped.url, "/healthz", version)).status).toBe(200);
    } finally {
      await stopped.close();
    }
  });

  it("answers /readyz 503 naming the shutdown while the server drains, /healthz still 200", async () => {
    const closing = await startTestServer();
    // Connections a probe opened before the shutdown and sends its requests on after it began. The pause lets the
    // server accept them: closing its listening socket would reset any still waiting in the kernel's queue.
    const sockets = await Promise.all([openConnection(closing.port), openConnection(closing.port)]);
    await sleep(50);
    const closed = closing.close();
    const [ready, alive] = await Promise.all([
      probe(closing.url, "/readyz", version, { socket: sockets[0] }),
      probe(closing.url, "/healthz", version, { socket: sockets[1] }),
    ]);
    expect(ready.status).toBe(503);
    expect(json(ready)).toEqual({ status: "NOT_READY", notReady: { shutdown: "draining" } });
    expect(alive.status).toBe(200);
    for (const socket of sockets) socket.destroy();
    await closed;
  });
});

function openConnection(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, "127.0.0.1", () => resolve(socket));
    socket.once("error", reject);
  });
}

describe("plain HTTP probes when the storage fails", () => {
  const tempDirectory = serverProcessDirectories("verifyd-probes-");

  it("answers /readyz 503 naming the storage on both protocols, /healthz 200, and READY again once writes work", async () => {
    const server = await startServerProcess(join(tempDirectory(), "verifyd.sqlite"), { ignoreFileSizeSignal: true });
    // No file of the server may grow at all from now on, as on a full disk: the next write fails and starts an episode.
    execFileSync("prlimit", ["--pid", String(server.child.pid), "--fsize=1:unlimited"]);
    const write = await fetch(`${server.url}/v2/organizations`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${server.adminToken}` },
      body: JSON.stringify({ name: "Acme" }),
    });
    expect(write.status).toBe(503);

    for (const version of versions) {
      const ready = await probe(server.url, "/readyz", version);
      expect(ready.status, version).toBe(503);
      expect(json(ready), version).toEqual({ status: "NOT_READY", notReady: { storage: "reads or writes fail" } });
      expect((await probe(server.url, "/healthz", version)).status, version).toBe(200);
    }

    execFileSync("prlimit", ["--pid", String(server.child.pid), "--fsize=unlimited:unlimited"]);
    let ready = await probe(server.url, "/readyz", "http/1.1");
    // The storage probes its writes at most once a second while an episode lasts.
    for (let tries = 0; ready.status !== 200 && tries < 50; tries++) {
      await sleep(100);
      ready = await probe(server.url, "/readyz", "http/1.1");
    }
    expect(json(ready)).toEqual({ status: "READY" });
    await server.stop();
  });
});

describe("many health watchers", () => {
  const tempDirectory = serverProcessDirectories("verifyd-watchers-");

  // A mesh's sidecars each hold a watch: past Node's default of 10 listeners on the shutdown's signals, the server
  // logged a MaxListenersExceededWarning, a leak that was none (each watch removes its listeners when it ends).
  it("holds a dozen and more watches open without a warning of a listener leak", async () => {
    const server = await startServerProcess(join(tempDirectory(), "verifyd.sqlite"));
    const health = createClient(Health, createGrpcTransport({ baseUrl: server.url }));
    const controller = new AbortController();
    let serving = 0;
    const watches = Array.from({ length: 16 }, async () => {
      try {
        for await (const response of health.watch({}, { signal: controller.signal })) if (response.status === Status.SERVING) serving++;
      } catch (error) {
        if (ConnectError.from(error).code !== Code.Canceled) throw error;
      }
    });
    await expect.poll(() => serving).toBe(16);
    // Past a storage poll, when each watch has taken its listeners off and put them back.
    await sleep(1_500);
    controller.abort();
    await Promise.all(watches);
    await server.stop();
    expect(server.stderr.filter((line) => line.includes("MaxListenersExceeded"))).toEqual([]);
  }, 30_000);
});
