// Every call but health needs a valid bearer token, on every protocol: without one, or with a malformed, unknown,
// expired or removed token, or a token of a deactivated or locked user, the answer is Unauthenticated (16, HTTP 401,
// WWW-Authenticate: Bearer), decided from the headers before the body is read.
import http from "node:http";
import http2 from "node:http2";
import net from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { errors } from "../../src/domain/errors.js";
import { type Caller, type CallerFactory, callerFactory } from "../helpers/callers.js";
import { type CallResult, allProtocols, expectOk, protocolClient } from "../helpers/protocol-clients.js";
import { type TestServer, startTestServer } from "../helpers/test-server.js";

let server: TestServer;
let callers: CallerFactory;
beforeAll(async () => {
  server = await startTestServer();
  callers = callerFactory(server);
});
afterAll(async () => {
  callers?.close();
  await server?.close();
});

const refusal = errors.unauthenticated();
const expectUnauthenticated = (result: CallResult, protocol: string) =>
  expect(result).toMatchObject({
    ok: false,
    code: 16,
    message: refusal.message,
    errorDetail: { id: refusal.id, message: refusal.text },
    errorInfo: { reason: "UNAUTHENTICATED" },
    ...(protocol === "rest" ? { httpStatus: 401 } : {}),
  });

const getSelf = (protocol: (typeof allProtocols)[number], caller: Caller | undefined, token = caller?.token) =>
  protocolClient(protocol, server.url, token).call("getUserByID", { userId: caller?.userId ?? "1" });

describe.each(allProtocols)("over %s", (protocol) => {
  it("refuses a call without a token", async () => {
    expectUnauthenticated(await getSelf(protocol, undefined), protocol);
  });

  it("refuses a malformed Authorization header and an unknown token", async () => {
    expectUnauthenticated(await getSelf(protocol, undefined, "not a token"), protocol);
    expectUnauthenticated(await getSelf(protocol, undefined, "A".repeat(43)), protocol);
  });

  it("refuses a removed token from the next call on", async () => {
    const caller = await callers.addCaller();
    expectOk(await getSelf(protocol, caller));
    expect(await callers.removeToken(caller.userId, caller.tokenId)).toBe(true);
    expectUnauthenticated(await getSelf(protocol, caller), protocol);
  });

  it("refuses the tokens of a deactivated or locked user while it is so", async () => {
    const caller = await callers.addCaller();
    await callers.changeStatus(caller.userId, "deactivate");
    expectUnauthenticated(await getSelf(protocol, caller), protocol);
    await callers.changeStatus(caller.userId, "reactivate");
    expectOk(await getSelf(protocol, caller));
    await callers.changeStatus(caller.userId, "lock");
    expectUnauthenticated(await getSelf(protocol, caller), protocol);
  });
});

describe("an expired token", () => {
  it("is refused once the server's clock passes its expiry, on every protocol", async () => {
    const caller = await callers.addCaller();
    const shortLived = await callers.addToken(caller.userId, 60_000);
    for (const protocol of allProtocols) expectOk(await getSelf(protocol, caller, shortLived.token));
    server.clock.advance(60_000);
    for (const protocol of allProtocols) expectUnauthenticated(await getSelf(protocol, caller, shortLived.token), protocol);
    expectOk(await getSelf("grpc", caller));
  });
});

describe("the refusal on the wire", () => {
  const verifyPhone = "/zitadel.user.v2.UserService/VerifyPhone";

  it("is REST's google.rpc.Status with HTTP 401 and WWW-Authenticate: Bearer, for any path", async () => {
    for (const path of ["/v2/users/1", "/no/such/path"]) {
      const response = await fetch(`${server.url}${path}`);
      expect(response.status).toBe(401);
      expect(response.headers.get("www-authenticate")).toBe("Bearer");
      expect(await response.json()).toMatchObject({ code: 16, message: refusal.message, details: [{ id: refusal.id }, { reason: "UNAUTHENTICATED" }] });
    }
  });

  it("is Connect's JSON error with HTTP 401 and WWW-Authenticate: Bearer", async () => {
    const response = await fetch(`${server.url}${verifyPhone}`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: "Basic YWRtaW46YWRtaW4=" },
      body: "{}",
    });
    expect(response.status).toBe(401);
    expect(response.headers.get("www-authenticate")).toBe("Bearer");
    expect(await response.json()).toMatchObject({ code: "unauthenticated", message: refusal.message, details: [{}, {}] });
  });

  it.each(["application/grpc-web+proto", "application/grpc-web-text"])(
    "is a trailers-only gRPC-Web answer (%s) with grpc-status 16 and its details",
    async (contentType) => {
      const response = await fetch(`${server.url}${verifyPhone}`, {
        method: "POST",
        headers: { "content-type": contentType, "x-grpc-web": "1" },
        body: "",
      });
      expect(response.status).toBe(200);
      expect(response.headers.get("grpc-status")).toBe("16");
      expect(decodeURIComponent(response.headers.get("grpc-message") ?? "")).toBe(refusal.message);
      expect(response.headers.get("grpc-status-details-bin")).toBeTruthy();
      expect(response.headers.get("www-authenticate")).toBe("Bearer");
      expect(await response.text()).toBe("");
    },
  );

  it("is a trailers-only gRPC answer over HTTP/2 with grpc-status 16", async () => {
    const session = http2.connect(server.url);
    try {
      const headers = await new Promise<http2.IncomingHttpHeaders>((resolve, reject) => {
        const stream = session.request({ ":method": "POST", ":path": verifyPhone, "content-type": "application/grpc", te: "trailers" });
        stream.on("response", resolve).on("error", reject);
        stream.end();
      });
      expect(headers).toMatchObject({ ":status": 200, "grpc-status": "16", "www-authenticate": "Bearer" });
    } finally {
      session.close();
    }
  });
});

describe("before the body is read", () => {
  // The body never ends: an answer can only come from the headers.
  const endless = (path: string, headers: http.OutgoingHttpHeaders) =>
    new Promise<http.IncomingMessage>((resolve, reject) => {
      const request = http.request(`${server.url}${path}`, { method: "POST", headers: { ...headers, "transfer-encoding": "chunked" } });
      request.on("response", (response) => {
        resolve(response);
        request.destroy();
      });
      request.on("error", reject);
      request.write(Buffer.alloc(1024, "{"));
    });

  it.each([
    ["REST", "/v2/users/human", { "content-type": "application/json" }],
    ["REST, gzip", "/v2/users/human", { "content-type": "application/json", "content-encoding": "gzip" }],
    ["Connect", "/zitadel.user.v2.UserService/AddHumanUser", { "content-type": "application/json" }],
    ["gRPC-Web", "/zitadel.user.v2.UserService/AddHumanUser", { "content-type": "application/grpc-web+proto" }],
  ])("answers %s without a token at once", async (_name, path, headers) => {
    const response = await endless(path, headers);
    expect(response.statusCode === 401 || response.headers["grpc-status"] === "16").toBe(true);
  });
});

describe("an upload that goes on after the refusal", () => {
  it("is cut off with its connection instead of being read to the end", async () => {
    const { port } = new URL(server.url);
    const socket = net.connect(Number(port), "127.0.0.1");
    let written = 0;
    let answer = "";
    socket.setEncoding("latin1").on("data", (chunk: string) => (answer += chunk));
    socket.on("error", () => undefined);
    const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
    socket.write("POST /v2/users/human HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n");
    const chunk = `4000\r\n${"{".repeat(0x4000)}\r\n`;
    const pump = () => {
      while (!socket.destroyed && written < 64 * 1024 * 1024 && socket.write(chunk)) written += 0x4000;
    };
    socket.on("drain", pump);
    pump();
    await closed;
    expect(answer).toMatch(/^HTTP\/1\.1 401 /);
    expect(written).toBeLessThan(64 * 1024 * 1024);
  });
});

describe("what stays open", () => {
  it("answers the HTTP probes and health over gRPC-Web without a token", async () => {
    expect(await (await fetch(`${server.url}/healthz`)).json()).toEqual({ status: "ALIVE" });
    expect(await (await fetch(`${server.url}/readyz`)).json()).toEqual({ status: "READY" });
    const grpcWeb = await fetch(`${server.url}/grpc.health.v1.Health/Check`, {
      method: "POST",
      headers: { "content-type": "application/grpc-web+proto" },
      body: new Uint8Array(5),
    });
    expect(grpcWeb.headers.get("grpc-status") ?? "0").toBe("0");
  });
});
