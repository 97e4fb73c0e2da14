// The same port over TLS: ALPN picks HTTP/2 or HTTP/1.1, and every protocol (gRPC, gRPC-Web, Connect over both
// HTTP versions, REST) completes AddHumanUser → VerifyPhone with a client that trusts only the test certificate.
import https from "node:https";
import tls from "node:tls";
import { type JsonObject, fromJson, toJson } from "@bufbuild/protobuf";
import { ConnectError, type Transport, createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { UserService } from "../../src/gen/zitadel/user/v2/user_service_pb.js";
import { uniqueMobile } from "../helpers/api-session.js";
import { createTestCertificate } from "../helpers/tls-cert.js";
import { bearer } from "../helpers/protocol-clients.js";
import { type TestServer, startTestServer } from "../helpers/test-server.js";

let server: TestServer;
let ca: string;
beforeAll(async () => {
  const certificate = await createTestCertificate();
  ca = certificate.cert;
  server = await startTestServer([], { tls: certificate });
});
afterAll(async () => {
  await server?.close();
});

const profile = { givenName: "Ada", familyName: "Lovelace" };

interface Flow {
  addHumanUser(request: JsonObject): Promise<JsonObject>;
  verifyPhone(request: JsonObject): Promise<JsonObject>;
  getUserByID(request: JsonObject): Promise<JsonObject>;
}

function rpcFlow(transport: Transport): Flow {
  const client = createClient(UserService, transport);
  const call =
    <M extends "addHumanUser" | "verifyPhone" | "getUserByID">(method: M) =>
    async (request: JsonObject): Promise<JsonObject> => {
      const desc = UserService.method[method];
      const invoke = client[method] as (req: unknown) => Promise<unknown>;
      const response = await invoke(fromJson(desc.input, request));
      return toJson(desc.output, response as never) as JsonObject;
    };
  return { addHumanUser: call("addHumanUser"), verifyPhone: call("verifyPhone"), getUserByID: call("getUserByID") };
}

/** REST over https with node:https, since fetch cannot be given a CA. */
function restFlow(): Flow {
  const send = (method: string, path: string, body?: JsonObject) =>
    new Promise<JsonObject>((resolve, reject) => {
      const payload = body === undefined ? undefined : JSON.stringify(body);
      const req = https.request(
        `${server.url}${path}`,
        {
          method,
          ca,
          agent: false,
          headers: {
            authorization: `Bearer ${server.adminToken}`,
            ...(payload === undefined ? {} : { "content-type": "application/json", "content-length": Buffer.byteLength(payload) }),
          },
        },
        (res) => {
          let text = "";
          res.setEncoding("utf8");
          res.on("data", (chunk: string) => (text += chunk));
          res.on("end", () => {
            if (res.statusCode === 200) resolve(JSON.parse(text) as JsonObject);
            else reject(new Error(`HTTP ${res.statusCode}: ${text}`));
          });
        },
      );
      req.on("error", reject);
      req.end(payload);
    });
  return {
    addHumanUser: (request) => send("POST", "/v2/users/human", request),
    verifyPhone: ({ userId, ...rest }) => send("POST", `/v2/users/${encodeURIComponent(String(userId))}/phone/verify`, rest),
    getUserByID: ({ userId }) => send("GET", `/v2/users/${encodeURIComponent(String(userId))}`),
  };
}

const flows: [string, () => Flow][] = [
  ["gRPC", () => rpcFlow(createGrpcTransport({ baseUrl: server.url, nodeOptions: { ca }, interceptors: [bearer(server.adminToken)] }))],
  ["gRPC-Web over HTTP/1.1", () => rpcFlow(createGrpcWebTransport({ baseUrl: server.url, httpVersion: "1.1", nodeOptions: { ca }, interceptors: [bearer(server.adminToken)] }))],
  ["gRPC-Web over HTTP/2", () => rpcFlow(createGrpcWebTransport({ baseUrl: server.url, httpVersion: "2", nodeOptions: { ca }, interceptors: [bearer(server.adminToken)] }))],
  ["Connect JSON over HTTP/1.1", () => rpcFlow(createConnectTransport({ baseUrl: server.url, httpVersion: "1.1", nodeOptions: { ca }, interceptors: [bearer(server.adminToken)] }))],
  [
    "Connect binary over HTTP/1.1",
    () => rpcFlow(createConnectTransport({ baseUrl: server.url, httpVersion: "1.1", useBinaryFormat: true, nodeOptions: { ca }, interceptors: [bearer(server.adminToken)] })),
  ],
  ["Connect over HTTP/2", () => rpcFlow(createConnectTransport({ baseUrl: server.url, httpVersion: "2", nodeOptions: { ca }, interceptors: [bearer(server.adminToken)] }))],
  ["REST over HTTP/1.1", restFlow],
];

describe("TLS", () => {
  it("serves on an https:// url", () => {
    expect(server.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
  });

  it.each(flows)("%s: AddHumanUser → VerifyPhone", async (_name, flow) => {
    const client = flow();
    const mobile = uniqueMobile();
    const added = await client.addHumanUser({ profile, phone: { phone: mobile, returnCode: {} } });
    const userId = added.userId as string;
    expect(added.phoneCode).toMatch(/^\d{6}$/);
    const verified = await client.verifyPhone({ userId, verificationCode: added.phoneCode as string });
    expect(verified).toMatchObject({ details: { sequence: "3" } });
    const user = await client.getUserByID({ userId });
    expect(user).toMatchObject({ user: { userId, human: { phone: { phone: mobile, isVerified: true } } } });
  });

  it.each([
    [["h2", "http/1.1"], "h2"],
    [["http/1.1"], "http/1.1"],
  ])("negotiates ALPN %j → %s", async (offered, expected) => {
    const socket = tls.connect({ host: "127.0.0.1", port: server.port, ca, ALPNProtocols: offered, servername: "localhost" });
    try {
      await new Promise<void>((resolve, reject) => {
        socket.once("secureConnect", resolve);
        socket.once("error", reject);
      });
      expect(socket.alpnProtocol).toBe(expected);
    } finally {
      socket.destroy();
    }
  });

  it("is refused by a client that does not trust the certificate, and the server keeps serving", async () => {
    const untrusting = rpcFlow(createConnectTransport({ baseUrl: server.url, httpVersion: "1.1" }));
    const failure = await untrusting.addHumanUser({ profile, phone: { phone: uniqueMobile(), returnCode: {} } }).then(
      () => undefined,
      (reason: unknown) => reason,
    );
    expect(failure).toBeDefined();
    expect(String(ConnectError.from(failure).message)).toMatch(/certificate/i);

    // A cleartext request on the TLS port gets no answer the client could mistake for one, and breaks nothing.
    const plain = await fetch(server.url.replace("https:", "http:") + "/v2/users/123").then(
      (response) => response.status,
      () => undefined,
    );
    if (plain !== undefined) expect(plain).toBeGreaterThanOrEqual(400);

    const client = rpcFlow(createGrpcTransport({ baseUrl: server.url, nodeOptions: { ca }, interceptors: [bearer(server.adminToken)] }));
    const added = await client.addHumanUser({ profile, phone: { phone: uniqueMobile(), returnCode: {} } });
    await client.verifyPhone({ userId: added.userId as string, verificationCode: added.phoneCode as string });
  });
});
