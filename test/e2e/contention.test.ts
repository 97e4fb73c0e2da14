// Many honest calls on one user at once, inside one process: they queue behind each other instead of racing, so
// none is refused with Aborted (CONCURRENT_UPDATE), which is left for a race another process keeps winning.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CallResult, expectOk, protocolClient } from "../helpers/protocol-clients.js";
import { type TestServer, startTestServer } from "../helpers/test-server.js";

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server.close();
});

const calls = 1_200;
/** Like a backend with a pool of HTTP/2 connections: requests on several connections arrive together. */
const connections = 8;

const outcome = (result: CallResult) => (result.ok ? "OK" : (result.errorInfo?.reason ?? `code ${result.code}`));

describe("contention on one user", () => {
  it(`${calls} concurrent ResendPhoneCode calls over ${connections} gRPC connections all succeed, each on the state the one before left`, async () => {
    const clients = Array.from({ length: connections }, () => protocolClient("grpc", server.url, server.adminToken));
    const added = expectOk(
      await clients[0]!.call("addHumanUser", {
        profile: { givenName: "Ada", familyName: "Lovelace" },
        phone: { phone: "+41791112230", returnCode: {} },
      }),
    );
    const userId = added.userId as string;

    const results = await Promise.all(
      Array.from({ length: calls }, (_, i) => clients[i % connections]!.call("resendPhoneCode", { userId, returnCode: {} })),
    );

    const outcomes: Record<string, number> = {};
    for (const result of results) outcomes[outcome(result)] = (outcomes[outcome(result)] ?? 0) + 1;
    expect(outcomes).toEqual({ OK: calls });
    // One event per call, numbered without gaps after human.added and the first code.added.
    const sequences = results.map((result) => Number((expectOk(result).details as { sequence: string }).sequence));
    expect(sequences.sort((a, b) => a - b)).toEqual(Array.from({ length: calls }, (_, i) => i + 3));
  }, 30_000);
});
