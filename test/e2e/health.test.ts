// The standard gRPC health service, for load balancers and probes, and its REST route for plain HTTP probes.
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Health, HealthCheckResponse_ServingStatus as Status } from "../../src/gen/grpc/health/v1/health_pb.js";
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

  it("answers plain HTTP probes at GET /healthz", async () => {
    const response = await fetch(`${server.url}/healthz`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: "SERVING" });
  });
});
