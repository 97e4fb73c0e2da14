// What clients get when they send something wrong, too much, too slowly or not HTTP at all: a clear 4xx (or the
// protocol's own error framing), never a 500, and the server keeps serving and keeps what it stored.
import http from "node:http";
import http2 from "node:http2";
import net from "node:net";
import zlib from "node:zlib";
import { randomBytes } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import type { DescMethodUnary, DescService } from "@bufbuild/protobuf";
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, type Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { UserService, VerifyPhoneRequestSchema } from "../../src/gen/zitadel/user/v2/user_service_pb.js";
import { uniqueMobile } from "../helpers/api-session.js";
import { grpcFrame, parseGrpcWebBody } from "../helpers/grpc-frames.js";
import { type ProtocolName, bearer, protocolClient, expectFailure, expectOk } from "../helpers/protocol-clients.js";
import { type TestServer, startTestServer } from "../helpers/test-server.js";

const allowedOrigin = "https://app.example";
let server: TestServer;
let address: { host: string; port: number };
beforeAll(async () => {
  server = await startTestServer([
    "--max-body-bytes",
    "4KiB",
    "--headers-timeout",
    "500ms",
    "--request-timeout",
    "1s",
    "--first-bytes-timeout",
    "500ms",
    "--cors-origins",
    allowedOrigin,
  ]);
  const url = new URL(server.url);
  address = { host: url.hostname, port: Number(url.port) };
});
afterAll(async () => {
  await server?.close();
});

const profile = { givenName: "Ada", familyName: "Lovelace" };

/** A user with its own phone number (a verified number belongs to one user of an organization) and its code. */
async function userWithPhoneCode(phone = uniqueMobile()) {
  const added = expectOk(
    await protocolClient("connect-json", server.url, server.adminToken).call("addHumanUser", { profile, phone: { phone, returnCode: {} } }),
  );
  return { userId: added.userId as string, code: added.phoneCode as string, phone };
}

async function phoneOf(userId: string) {
  const user = expectOk(await protocolClient("connect-json", server.url, server.adminToken).call("getUserByID", { userId }));
  return (user as { user: { human: { phone: { phone: string; isVerified?: boolean } } } }).user.human.phone;
}

interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  text: string;
}

/** The administrator's credentials, which every raw request below carries: the input is what is hostile, not the caller. */
const authorization = () => ({ authorization: `Bearer ${server.adminToken}` });

/** One HTTP/1.1 exchange on a fresh connection, with exactly the headers (and credentials) and body given. */
function request(
  method: string,
  path: string,
  options: { headers?: http.OutgoingHttpHeaders; body?: string | Buffer; chunks?: (string | Buffer)[] } = {},
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const headers = { ...authorization(), ...options.headers };
    const req = http.request({ ...address, method, path, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () => {
        const body = Buffer.concat(chunks);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body, text: body.toString("utf8") });
      });
      res.on("error", reject);
    });
    req.on("error", reject);
    if (options.chunks) {
      for (const chunk of options.chunks) req.write(chunk);
      req.end();
    } else {
      req.end(options.body);
    }
  });
}

/** A REST request with a JSON body (a string is sent as is, anything else as JSON). */
function rest(method: string, path: string, body?: unknown, headers: http.OutgoingHttpHeaders = {}) {
  const text = body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body);
  return request(method, path, {
    headers: { ...(text === undefined ? {} : { "content-type": "application/json" }), ...headers },
    ...(text === undefined ? {} : { body: text }),
  });
}

function statusBody(response: RawResponse): { code: number; message: string; details?: unknown[] } {
  expect(response.headers["content-type"]).toMatch(/^application\/json/);
  const body = JSON.parse(response.text) as { code: number; message: string; details?: unknown[] };
  expect(body).toEqual(expect.objectContaining({ code: expect.any(Number), message: expect.any(String) }));
  return body;
}

/** One HTTP/2 (cleartext, prior knowledge) exchange: response headers, body and trailers. */
function h2request(
  headers: http2.OutgoingHttpHeaders,
  body: Buffer = Buffer.alloc(0),
): Promise<{ headers: http2.IncomingHttpHeaders; trailers: http2.IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(server.url);
    session.on("error", reject);
    const stream = session.request({ ":method": "POST", ...authorization(), ...headers });
    let responseHeaders: http2.IncomingHttpHeaders = {};
    let trailers: http2.IncomingHttpHeaders = {};
    const chunks: Buffer[] = [];
    stream.on("response", (h) => (responseHeaders = h));
    stream.on("trailers", (t) => (trailers = t));
    stream.on("data", (chunk: Buffer) => chunks.push(chunk));
    stream.on("end", () => {
      session.close();
      resolve({ headers: responseHeaders, trailers, body: Buffer.concat(chunks) });
    });
    stream.on("error", (error) => {
      session.destroy();
      reject(error);
    });
    stream.end(body);
  });
}

describe("REST gateway", () => {
  it("answers malformed JSON with 400 and InvalidArgument", async () => {
    const response = await rest("POST", "/v2/users/123/phone/verify", '{"verificationCode": "12');
    expect(response.status).toBe(400);
    expect(statusBody(response).code).toBe(3);
  });

  it.each([
    ["text/plain", "verificationCode=123456"],
    ["application/x-www-form-urlencoded", "verificationCode=123456"],
    ["application/xml", "<verificationCode>123456</verificationCode>"],
  ])("answers a %s body with a 4xx Status body, not 500", async (contentType, body) => {
    const { userId } = await userWithPhoneCode();
    const response = await rest("POST", `/v2/users/${userId}/phone/verify`, body, { "content-type": contentType });
    expect(response.status).toBeGreaterThanOrEqual(400);
    expect(response.status).toBeLessThan(500);
    expect(statusBody(response).code).toBe(3);
    expect((await phoneOf(userId)).isVerified).toBeFalsy();
  });

  it("refuses a body over --max-body-bytes with 413 and ResourceExhausted, declared or streamed", async () => {
    const oversized = { verificationCode: "123456", padding: "x".repeat(5_000) };
    const declared = await rest("POST", "/v2/users/123/phone/verify", oversized);
    expect(declared.status).toBe(413);
    expect(statusBody(declared).code).toBe(8);

    // Chunked, no Content-Length: found out while reading.
    const streamed = await request("POST", "/v2/users/123/phone/verify", {
      headers: { "content-type": "application/json" },
      chunks: [JSON.stringify(oversized).slice(0, 2_500), JSON.stringify(oversized).slice(2_500)],
    });
    expect(streamed.status).toBe(413);
    expect(statusBody(streamed).code).toBe(8);

    // A body just under the limit is read and judged as usual.
    const { userId, code } = await userWithPhoneCode();
    const fits = await rest("POST", `/v2/users/${userId}/phone/verify`, { verificationCode: code, padding: "x".repeat(3_000) });
    expect(fits.status).toBe(200);
  });

  // Python's http.client writes the whole request before it reads: with 5 MB declared, it got a broken pipe or a reset
  // instead of the 413, since the server closed with the body unread (a Python client's trial).
  it("answers 413 to a client that writes a body of megabytes before it reads, and keeps its connection", async () => {
    const body = Buffer.alloc(5_000_000, "x");
    const head = [
      "POST /v2/users/123/phone/verify HTTP/1.1",
      `Host: ${address.host}:${address.port}`,
      "Content-Type: application/json",
      `Authorization: Bearer ${server.adminToken}`,
      `Content-Length: ${body.length}`,
      "",
      "",
    ].join("\r\n");
    const socket = net.connect(address.port, address.host);
    let received = "";
    socket.setEncoding("latin1");
    socket.on("data", (chunk: string) => (received += chunk));
    const failed = new Promise<Error>((resolve) => socket.once("error", resolve));
    await new Promise<void>((resolve) => socket.once("connect", resolve));
    socket.write(head);
    for (let offset = 0; offset < body.length; offset += 64 * 1024) {
      if (!socket.write(body.subarray(offset, offset + 64 * 1024))) await Promise.race([new Promise((resolve) => socket.once("drain", resolve)), failed]);
    }
    await expect.poll(() => received).toMatch(/^HTTP\/1\.1 413 /);
    expect(received).not.toMatch(/^connection: close/im);
    // The same connection serves the next request once the rest of the body has been read and dropped.
    socket.write(`GET /healthz HTTP/1.1\r\nHost: ${address.host}:${address.port}\r\n\r\n`);
    await expect.poll(() => received, { timeout: 5_000 }).toMatch(/HTTP\/1\.1 200 /);
    socket.destroy();
  });

  it.each([
    ["GET", "/v2/nothing-here"],
    ["POST", "/v2/users/123/phone/verify/extra"],
    ["GET", "/"],
    ["POST", "/zitadel.user.v2.UserService"],
  ])("answers an unknown path (%s %s) with 404 and NotFound", async (method, path) => {
    const response = await rest(method, path, method === "GET" ? undefined : {});
    expect(response.status).toBe(404);
    expect(statusBody(response).code).toBe(5);
  });

  it("answers a known path with the wrong method with 405, Allow and Unimplemented", async () => {
    const response = await rest("PUT", "/v2/users/123/phone/verify", { verificationCode: "123456" });
    expect(response.status).toBe(405);
    expect(response.headers.allow?.split(/,\s*/)).toContain("POST");
    expect(statusBody(response).code).toBe(12);

    const phone = await rest("PATCH", "/v2/users/123/phone", {});
    expect(phone.status).toBe(405);
    expect(phone.headers.allow?.split(/,\s*/).sort()).toEqual(["DELETE", "POST"]);
  });

  it("takes proto field names (snake_case) and ignores unknown fields", async () => {
    const { userId, code, phone } = await userWithPhoneCode();
    const response = await rest("POST", `/v2/users/${userId}/phone/verify`, {
      verification_code: code,
      unknown_field: 1,
      alsoUnknown: { nested: [true, null] },
    });
    expect(response.status, response.text).toBe(200);
    expect(JSON.parse(response.text)).toMatchObject({ details: { sequence: "3" } });
    expect(await phoneOf(userId)).toMatchObject({ phone, isVerified: true });
  });

  describe("an enum name the contract does not have (a typo would read as unset: no filter, every user listed)", () => {
    const listInactive = { queries: [{ stateQuery: { state: "USER_STATE_INACTIV" } }] };
    const reason = 'queries[0].stateQuery.state: "USER_STATE_INACTIV" is not a value of zitadel.user.v2.UserState';

    it("is refused over REST", async () => {
      const response = await rest("POST", "/v2/users", listInactive);
      expect(response.status, response.text).toBe(400);
      expect(statusBody(response)).toMatchObject({ code: 3, message: `invalid JSON body: ${reason}` });
    });

    it("is refused over Connect with JSON", async () => {
      const response = await request("POST", "/zitadel.user.v2.UserService/ListUsers", {
        headers: { "content-type": "application/json" },
        body: JSON.stringify(listInactive),
      });
      expect(response.status, response.text).toBe(400);
      expect(JSON.parse(response.text)).toMatchObject({ code: "invalid_argument", message: reason });
    });

    it("is refused over gRPC-Web with JSON", async () => {
      const response = await request("POST", "/zitadel.user.v2.UserService/ListUsers", {
        headers: { "content-type": "application/grpc-web+json" },
        body: grpcFrame(Buffer.from(JSON.stringify(listInactive))),
      });
      const { "grpc-status": status, "grpc-message": message } = parseGrpcWebBody(response.body).trailer ?? {};
      expect({ status, message: decodeURIComponent(message ?? "") }).toEqual({ status: "3", message: reason });
    });

    it("is refused in a compressed body too: Connect's gzip, gRPC-Web's compressed message", async () => {
      const gzipped = zlib.gzipSync(JSON.stringify(listInactive));
      const connect = await request("POST", "/zitadel.user.v2.UserService/ListUsers", {
        headers: { "content-type": "application/json", "content-encoding": "gzip" },
        body: gzipped,
      });
      expect(connect.status, connect.text).toBe(400);
      expect(JSON.parse(connect.text)).toMatchObject({ code: "invalid_argument", message: reason });

      const grpcWeb = await request("POST", "/zitadel.user.v2.UserService/ListUsers", {
        headers: { "content-type": "application/grpc-web+json", "grpc-encoding": "gzip" },
        body: grpcFrame(gzipped, 1),
      });
      const { "grpc-status": status, "grpc-message": message } = parseGrpcWebBody(grpcWeb.body).trailer ?? {};
      expect({ status, message: decodeURIComponent(message ?? "") }).toEqual({ status: "3", message: reason });
    });

    it("is taken when spelled right, over JSON as over binary", async () => {
      const response = await rest("POST", "/v2/users", { queries: [{ stateQuery: { state: "USER_STATE_INACTIVE" } }] });
      expect(response.status, response.text).toBe(200);
      const connect = await request("POST", "/zitadel.user.v2.UserService/ListUsers", {
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ queries: [{ stateQuery: { state: "USER_STATE_INACTIVE" } }], unknownField: 1 }),
      });
      expect(connect.status, connect.text).toBe(200);
      expect(connect.headers["content-type"]).toBe("application/json");
      expect(JSON.parse(connect.text)).toHaveProperty("details");
    });
  });

  it.each([
    ["an empty JSON body", { headers: { "content-type": "application/json" }, body: "" }],
    ["an empty object", { headers: { "content-type": "application/json" }, body: "{}" }],
  ])("accepts ResendPhoneCode with %s and sends a new code (send_code is the default)", async (_name, options) => {
    const phone = uniqueMobile();
    const { userId, code: oldCode } = await userWithPhoneCode(phone);
    const response = await request("POST", `/v2/users/${userId}/phone/resend`, options);
    expect(response.status, response.text).toBe(200);
    const body = JSON.parse(response.text) as Record<string, unknown>;
    expect(body).toHaveProperty("details");
    expect(body).not.toHaveProperty("verificationCode");

    await server.outbox.runOnce();
    const message = server.delivered.find((m) => m.destination === phone);
    expect(message).toBeDefined();
    const sentCode = /verification code is (\S+?)\./.exec(message!.text)?.[1];
    expect(sentCode).toMatch(/^\d{6}$/);
    if (sentCode !== oldCode) {
      expect(expectFailure(await protocolClient("rest", server.url, server.adminToken).call("verifyPhone", { userId, verificationCode: oldCode })).code).toBe(3);
    }
    expectOk(await protocolClient("rest", server.url, server.adminToken).call("verifyPhone", { userId, verificationCode: sentCode! }));
  });

  it.each(["userId", "user_id"])("lets the user id in the path win over a body %s", async (name) => {
    const target = await userWithPhoneCode();
    const other = await userWithPhoneCode();
    const response = await rest("POST", `/v2/users/${target.userId}/phone/verify`, {
      [name]: other.userId,
      verificationCode: target.code,
    });
    expect(response.status, response.text).toBe(200);
    expect((await phoneOf(target.userId)).isVerified).toBe(true);
    expect((await phoneOf(other.userId)).isVerified).toBeFalsy();

    // And the other way round: the body's user and its code do not verify the body's user through another path.
    const third = await userWithPhoneCode();
    const crossed = await rest("POST", `/v2/users/${third.userId}/phone/verify`, {
      [name]: other.userId,
      verificationCode: other.code,
    });
    expect(crossed.status).toBe(400);
    expect(statusBody(crossed).code).toBe(3);
    expect((await phoneOf(other.userId)).isVerified).toBeFalsy();
  });
});

describe("REST bodies are JSON, labelled as such", () => {
  const cases: [string, http.OutgoingHttpHeaders, string][] = [
    ["no content type", {}, '{"verificationCode":"123456"}'],
    ["no content type and no body", {}, ""],
    ["text/plain", { "content-type": "text/plain" }, '{"verificationCode":"123456"}'],
    ["text/plain and no body", { "content-type": "text/plain" }, ""],
    ["application/x-www-form-urlencoded", { "content-type": "application/x-www-form-urlencoded" }, "verificationCode=123456"],
    ["multipart/form-data", { "content-type": "multipart/form-data; boundary=x" }, "--x--"],
    ["a +json type", { "content-type": "application/merge-patch+json" }, '{"verificationCode":"123456"}'],
    // JSON is UTF-8 (RFC 8259): a body labelled otherwise would be read as what it does not say it is.
    ["JSON in UTF-16", { "content-type": "application/json; charset=utf-16" }, '{"verificationCode":"123456"}'],
  ];

  // A page on any site can send these as a "simple" cross-site request, without asking the server first.
  it.each(cases)("refuses a POST with %s with 415 and InvalidArgument naming application/json", async (_name, headers, body) => {
    const { userId, code } = await userWithPhoneCode();
    const response = await request("POST", `/v2/users/${userId}/phone/verify`, { headers, body: body.replace("123456", code) });
    expect(response.status, response.text).toBe(415);
    const status = statusBody(response);
    expect(status.code).toBe(3);
    expect(status.message).toContain("application/json");
    if (headers["content-type"]) expect(status.message).toContain(String(headers["content-type"]));
    expect((await phoneOf(userId)).isVerified).toBeFalsy();
  });

  it("does not resend a code for an empty POST without a content type", async () => {
    const phone = uniqueMobile();
    const { userId } = await userWithPhoneCode(phone);
    const response = await request("POST", `/v2/users/${userId}/phone/resend`);
    expect(response.status).toBe(415);
    await server.outbox.runOnce();
    expect(server.delivered.filter((message) => message.destination === phone)).toEqual([]);
  });

  it("accepts application/json with parameters, in any case", async () => {
    const { userId, code } = await userWithPhoneCode();
    const response = await rest("POST", `/v2/users/${userId}/phone/verify`, { verificationCode: code }, {
      "content-type": "Application/JSON; charset=utf-8",
    });
    expect(response.status, response.text).toBe(200);
  });

  it("needs no content type on GET, nor on a DELETE without a body", async () => {
    const { userId } = await userWithPhoneCode();
    expect((await request("GET", `/v2/users/${userId}`)).status).toBe(200);
    const removed = await request("DELETE", `/v2/users/${userId}/phone`);
    expect(removed.status, removed.text).toBe(200);
  });
});

describe("REST bodies with a Content-Encoding", () => {
  const encoders: [string, (body: Buffer) => Buffer][] = [
    ["gzip", (body) => zlib.gzipSync(body)],
    ["deflate", (body) => zlib.deflateSync(body)],
    ["br", (body) => zlib.brotliCompressSync(body)],
    ["identity", (body) => body],
    ["gzip, br", (body) => zlib.brotliCompressSync(zlib.gzipSync(body))],
  ];

  it.each(encoders)("decodes %s", async (encoding, encode) => {
    const { userId, code } = await userWithPhoneCode();
    const response = await request("POST", `/v2/users/${userId}/phone/verify`, {
      headers: { "content-type": "application/json", "content-encoding": encoding },
      body: encode(Buffer.from(JSON.stringify({ verificationCode: code }))),
    });
    expect(response.status, response.text).toBe(200);
    expect(await phoneOf(userId)).toMatchObject({ isVerified: true });
  });

  it.each([
    ["3 MiB of zeros, gzip", "gzip", zlib.gzipSync(Buffer.alloc(3 * 1024 * 1024))],
    ["10 MiB of zeros, br", "br", zlib.brotliCompressSync(Buffer.alloc(10 * 1024 * 1024))],
    ["JSON just over the limit, gzip", "gzip", zlib.gzipSync(JSON.stringify({ verificationCode: "1", padding: "x".repeat(4_100) }))],
  ])("refuses %s (small on the wire) with 413 by its decoded size", async (_name, encoding, body) => {
    expect(body.length).toBeLessThan(4 * 1024);
    const response = await request("POST", "/v2/users/123/phone/verify", {
      headers: { "content-type": "application/json", "content-encoding": encoding },
      body,
    });
    expect(response.status, response.text).toBe(413);
    expect(statusBody(response).code).toBe(8);
  });

  it.each([
    ["gzip", Buffer.from("not gzip at all")],
    ["gzip", zlib.gzipSync('{"verificationCode":"123456"}').subarray(0, 20)],
    ["deflate", Buffer.from("not deflate")],
    ["br", Buffer.from("not brotli at all")],
  ])("answers a corrupt %s body with 400 and InvalidArgument", async (encoding, body) => {
    const response = await request("POST", "/v2/users/123/phone/verify", {
      headers: { "content-type": "application/json", "content-encoding": encoding },
      body,
    });
    expect(response.status, response.text).toBe(400);
    const status = statusBody(response);
    expect(status.code).toBe(3);
    expect(status.message).toContain(`not valid ${encoding}`);
  });

  it.each(["compress", "zstd", "gzip, x-unknown"])("refuses the unknown encoding %s with 415 naming it", async (encoding) => {
    const response = await request("POST", "/v2/users/123/phone/verify", {
      headers: { "content-type": "application/json", "content-encoding": encoding },
      body: "{}",
    });
    expect(response.status, response.text).toBe(415);
    const status = statusBody(response);
    expect(status.code).toBe(3);
    expect(status.message).toContain(encoding.split(", ").at(-1));
  });
});

describe("a request message that is not valid protobuf is InvalidArgument on every protocol", () => {
  const verifyPhonePath = "/zitadel.user.v2.UserService/VerifyPhone";
  const malformed = Buffer.from([0xff, 0xff, 0xff]);

  it("gRPC: grpc-status 3", async () => {
    const response = await h2request(
      { ":path": verifyPhonePath, "content-type": "application/grpc", te: "trailers" },
      grpcFrame(malformed),
    );
    expect(response.headers[":status"]).toBe(200);
    expect(response.headers["grpc-status"] ?? response.trailers["grpc-status"]).toBe("3");
  });

  it("gRPC-Web: grpc-status 3", async () => {
    const response = await request("POST", verifyPhonePath, {
      headers: { "content-type": "application/grpc-web+proto", "x-grpc-web": "1" },
      body: grpcFrame(malformed),
    });
    expect(response.status).toBe(200);
    expect(response.headers["grpc-status"] ?? parseGrpcWebBody(response.body).trailer?.["grpc-status"]).toBe("3");
  });

  it("Connect: HTTP 400, invalid_argument", async () => {
    const response = await request("POST", verifyPhonePath, {
      headers: { "content-type": "application/proto", "connect-protocol-version": "1" },
      body: malformed,
    });
    expect(response.status).toBe(400);
    expect(JSON.parse(response.text)).toMatchObject({ code: "invalid_argument" });
  });
});

describe("RPC protocols", () => {
  const rpcProtocols: ProtocolName[] = ["connect-json", "connect-binary", "connect-h2", "grpc", "grpc-web"];

  it.each(rpcProtocols)("refuses a message over --max-body-bytes with ResourceExhausted over %s", async (protocol) => {
    const result = await protocolClient(protocol, server.url, server.adminToken).call("addHumanUser", {
      profile: { givenName: "A".repeat(5_000), familyName: "Lovelace" },
      phone: { phone: uniqueMobile(), returnCode: {} },
    });
    expect(expectFailure(result).code).toBe(Code.ResourceExhausted);
  });

  it("answers a procedure's GET (it has side effects) and PUT 405 with the Allow header HTTP asks for", async () => {
    const message = encodeURIComponent(JSON.stringify({ userId: "1", verificationCode: "123456" }));
    const get = await request("GET", `/zitadel.user.v2.UserService/VerifyPhone?connect=v1&encoding=json&message=${message}`);
    expect(get.status).toBe(405);
    expect(get.headers.allow).toBe("POST");
    const put = await request("PUT", "/zitadel.user.v2.UserService/VerifyPhone", { headers: { "content-type": "application/json" }, body: "{}" });
    expect([put.status, put.headers.allow]).toEqual([405, "POST"]);
  });

  describe("an unknown method, in each protocol's own framing", () => {
    const unknownPaths = ["/zitadel.user.v2.UserService/NoSuchMethod", "/no.such.v1.Service/Method"];

    it.each(unknownPaths)("gRPC %s: HTTP 200, application/grpc, grpc-status 12 (not a JSON 404)", async (path) => {
      const response = await h2request(
        { ":path": path, "content-type": "application/grpc", te: "trailers" },
        grpcFrame(new Uint8Array()),
      );
      expect(response.headers[":status"]).toBe(200);
      expect(response.headers["content-type"]).toMatch(/^application\/grpc(\+proto)?$/);
      const grpcStatus = response.headers["grpc-status"] ?? response.trailers["grpc-status"];
      expect(grpcStatus).toBe("12");
    });

    it.each(unknownPaths)("gRPC-Web %s: HTTP 200, application/grpc-web, grpc-status 12", async (path) => {
      const response = await request("POST", path, {
        headers: { "content-type": "application/grpc-web+proto", "x-grpc-web": "1" },
        body: grpcFrame(new Uint8Array()),
      });
      expect(response.status).toBe(200);
      expect(response.headers["content-type"]).toMatch(/^application\/grpc-web/);
      // Trailers-only: in the headers, or else in a trailer frame in the body.
      const grpcStatus = response.headers["grpc-status"] ?? /grpc-status:\s*(\d+)/.exec(response.text)?.[1];
      expect(grpcStatus).toBe("12");
    });

    it.each(unknownPaths)("Connect %s: code unimplemented", async (path) => {
      const response = await request("POST", path, {
        headers: { "content-type": "application/json", "connect-protocol-version": "1" },
        body: "{}",
      });
      expect(response.status).toBe(404);
      expect(JSON.parse(response.text)).toMatchObject({ code: "unimplemented" });
    });

    // The same through connect-node's clients, which must read it as Unimplemented, not as a transport failure.
    const transports: [string, () => Transport][] = [
      ["grpc", () => createGrpcTransport({ baseUrl: server.url, interceptors: [bearer(server.adminToken)] })],
      ["grpc-web", () => createGrpcWebTransport({ baseUrl: server.url, httpVersion: "1.1", interceptors: [bearer(server.adminToken)] })],
      ["connect-json", () => createConnectTransport({ baseUrl: server.url, httpVersion: "1.1", interceptors: [bearer(server.adminToken)] })],
      ["connect-binary", () => createConnectTransport({ baseUrl: server.url, httpVersion: "1.1", useBinaryFormat: true, interceptors: [bearer(server.adminToken)] })],
      ["connect-h2", () => createConnectTransport({ baseUrl: server.url, httpVersion: "2", interceptors: [bearer(server.adminToken)] })],
    ];
    it.each(transports)("connect-node's %s client sees Unimplemented", async (_name, transport) => {
      const method = unknownMethod();
      const error = await transport()
        .unary(method, undefined, undefined, undefined, create(VerifyPhoneRequestSchema, { userId: "1", verificationCode: "123456" }), undefined)
        .then(
          () => undefined,
          (reason: unknown) => ConnectError.from(reason),
        );
      expect(error?.code).toBe(Code.Unimplemented);
    });
  });

  it("answers Connect with a wrong content type with 415, never 500", async () => {
    for (const contentType of ["text/plain", "application/xml", "multipart/form-data; boundary=x"]) {
      const response = await request("POST", "/zitadel.user.v2.UserService/VerifyPhone", {
        headers: { "content-type": contentType, "connect-protocol-version": "1" },
        body: '{"userId":"1","verificationCode":"123456"}',
      });
      expect(response.status, contentType).toBe(415);
    }
    // Without Connect's header too.
    const plain = await request("POST", "/zitadel.user.v2.UserService/VerifyPhone", {
      headers: { "content-type": "text/plain" },
      body: "hello",
    });
    expect(plain.status).toBeGreaterThanOrEqual(400);
    expect(plain.status).toBeLessThan(500);
  });
});

describe("abuse of the connection itself", () => {
  it("survives garbage bytes on the port and keeps serving and storing", async () => {
    const before = await userWithPhoneCode();
    const garbage: Buffer[] = [
      randomBytes(4_096),
      Buffer.from("\x00\x01\x02\x03\xff\xfe\r\n\r\n"),
      Buffer.from("GET / HTTP/9.9\r\n\r\n"),
      Buffer.from("NOT A REQUEST LINE\r\nfoo\r\n\r\n"),
      Buffer.concat([Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "latin1"), randomBytes(512)]),
      Buffer.from("PRI * HTTP/2.0\r\n\r\nXX"),
      Buffer.from("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", "latin1"), // a TLS ClientHello on a cleartext port
    ];
    const answers = await Promise.all(garbage.map((bytes) => sendRaw(bytes)));
    for (const answer of answers) {
      // Either no answer at all, or an HTTP error that is the client's: never a 5xx.
      const status = /^HTTP\/1\.[01] (\d{3})/.exec(answer.toString("latin1"))?.[1];
      if (status !== undefined) expect(Number(status)).toBeLessThan(500);
    }

    const after = await userWithPhoneCode();
    expectOk(await protocolClient("grpc", server.url, server.adminToken).call("verifyPhone", { userId: after.userId, verificationCode: after.code }));
    expectOk(await protocolClient("rest", server.url, server.adminToken).call("verifyPhone", { userId: before.userId, verificationCode: before.code }));
  });

  it("hangs up on an HTTP/2 client that never sends its SETTINGS frame, or whose first frame is refused, and keeps serving", async () => {
    const preface = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "latin1");
    // A first SETTINGS frame announcing 5 MiB, beyond the 16 KiB HTTP/2 allows: nghttp2 answers GOAWAY
    // (FRAME_SIZE_ERROR), and left at that the connection stayed open until the idle timeout (60 s here).
    const oversizedSettings = Buffer.concat([preface, Buffer.from("5184d2" + "04" + "00" + "00000000", "hex"), Buffer.alloc(16)]);
    const hangUps = await Promise.all(
      [preface, oversizedSettings].map(async (bytes) => {
        const socket = await connect();
        socket.resume();
        const closed = new Promise<"closed">((resolve) => socket.once("close", () => resolve("closed")));
        socket.write(bytes);
        // The suite's first-bytes timeout is 500 ms; the client's SETTINGS must come within as long again.
        const outcome = await Promise.race([closed, sleep(5_000).then(() => "still open" as const)]);
        socket.destroy();
        return outcome;
      }),
    );
    expect(hangUps).toEqual(["closed", "closed"]);

    const after = await userWithPhoneCode();
    expectOk(await protocolClient("grpc", server.url, server.adminToken).call("verifyPhone", { userId: after.userId, verificationCode: after.code }));
  });

  it("closes 20 slowloris connections and answers normal calls meanwhile, losing nothing", async () => {
    const before = await userWithPhoneCode();
    const sockets = await Promise.all(Array.from({ length: 20 }, () => connect()));
    const closed = sockets.map((socket) => new Promise<void>((resolve) => socket.once("close", () => resolve())));
    const dribble = setInterval(() => {
      for (const socket of sockets) if (!socket.destroyed) socket.write("X");
    }, 50);
    try {
      for (const socket of sockets) socket.write(`POST /v2/users/${before.userId}/phone/verify HTTP/1.1\r\nHost: x\r\nX-Slow: `);
      // Meanwhile, ordinary calls over HTTP/1.1 and HTTP/2 are answered.
      const during = await userWithPhoneCode();
      expectOk(
        await protocolClient("connect-h2", server.url, server.adminToken).call("verifyPhone", { userId: during.userId, verificationCode: during.code }),
      );
      // The server hangs up on every one of them (the test's timeout is the bound), and never served them.
      await Promise.all(closed);
    } finally {
      clearInterval(dribble);
      for (const socket of sockets) socket.destroy();
    }
    expect((await phoneOf(before.userId)).isVerified).toBeFalsy();
    expectOk(await protocolClient("rest", server.url, server.adminToken).call("verifyPhone", { userId: before.userId, verificationCode: before.code }));
  });

  it("ends HTTP/2 streams whose body never completes, and keeps serving", async () => {
    const before = await userWithPhoneCode();
    const session = http2.connect(server.url);
    session.on("error", () => undefined);
    try {
      const streams = Array.from({ length: 10 }, () => {
        const stream = session.request({
          ":method": "POST",
          ...authorization(),
          ":path": `/v2/users/${before.userId}/phone/verify`,
          "content-type": "application/json",
          "content-length": "100",
        });
        stream.on("error", () => undefined);
        stream.write('{"verificationCode":');
        stream.resume();
        return new Promise<number | undefined>((resolve) => {
          let status: number | undefined;
          stream.on("response", (headers) => (status = Number(headers[":status"])));
          stream.once("close", () => resolve(status));
        });
      });
      // An ordinary call meanwhile.
      const during = await userWithPhoneCode();
      expectOk(await protocolClient("connect-h2", server.url, server.adminToken).call("verifyPhone", { userId: during.userId, verificationCode: during.code }));
      for (const status of await Promise.all(streams)) {
        // Reset without an answer, or answered with a client error (408); never served or a 5xx.
        if (status !== undefined) expect(status).toBeGreaterThanOrEqual(400);
        if (status !== undefined) expect(status).toBeLessThan(500);
      }
    } finally {
      session.destroy();
    }
    expectOk(await protocolClient("grpc", server.url, server.adminToken).call("verifyPhone", { userId: before.userId, verificationCode: before.code }));
  });

  it("answers a few pipelined HTTP/1.1 requests, and closes a connection that piles up more than 32 unanswered", async () => {
    const pipelined = (count: number) => Buffer.from("GET /healthz HTTP/1.1\r\nhost: localhost\r\n\r\n".repeat(count));
    const answers = (received: Buffer) => received.toString("latin1").split("HTTP/1.1 200").length - 1;
    const few = await connect();
    const received: Buffer[] = [];
    few.on("data", (chunk: Buffer) => received.push(chunk));
    few.write(pipelined(10));
    for (let waited = 0; answers(Buffer.concat(received)) < 10 && waited < 2_000; waited += 20) await sleep(20);
    expect(answers(Buffer.concat(received))).toBe(10);
    expect(few.destroyed).toBe(false);
    few.destroy();

    // Thousands sent and none read held each request and its answer in memory.
    const piled = await sendRaw(pipelined(3_000));
    expect(answers(piled)).toBeLessThan(3_000);
  });

  it("closes connections that never send a byte, and keeps serving", async () => {
    const sockets = await Promise.all(Array.from({ length: 20 }, () => connect()));
    try {
      const closed = sockets.map((socket) => new Promise<void>((resolve) => socket.once("close", () => resolve())));
      const { userId, code } = await userWithPhoneCode();
      expectOk(await protocolClient("grpc-web", server.url, server.adminToken).call("verifyPhone", { userId, verificationCode: code }));
      await Promise.all(closed);
    } finally {
      for (const socket of sockets) socket.destroy();
    }
  });
});

describe("bodies that never finish, from many calls at once", () => {
  // A client's share of 1 MiB is a tenth (--max-connections-per-client 100 of --max-connections 1000): 104,857 bytes,
  // one whole body of 60,000 and part of another.
  let small: TestServer;
  beforeAll(async () => {
    small = await startTestServer(["--max-body-bytes", "64KiB", "--max-bodies-in-transit", "1MiB", "--request-timeout", "20s"]);
  });
  afterAll(async () => {
    await small?.close();
  });
  const unfinishedBody = Buffer.alloc(60_000, 0x20);

  it("resets the HTTP/2 streams of a client beyond its share, and answers its ordinary calls meanwhile", async () => {
    const session = http2.connect(small.url);
    session.on("error", () => undefined);
    try {
      let cutOff = 0;
      for (let index = 0; index < 40; index += 1) {
        const stream = session.request({ ":method": "POST", ":path": "/oauth2/token", "content-type": "application/json" });
        stream.on("error", () => undefined);
        stream.once("close", () => {
          if (stream.rstCode === http2.constants.NGHTTP2_ENHANCE_YOUR_CALM) cutOff += 1;
        });
        stream.write(unfinishedBody);
      }
      for (let waited = 0; cutOff < 39 && waited < 5_000; waited += 50) await sleep(50);
      // One whole unfinished body fits the share; the others do not.
      expect(cutOff).toBe(39);
      const { userId } = expectOk(
        await protocolClient("grpc", small.url, small.adminToken).call("addHumanUser", { profile, phone: { phone: uniqueMobile(), returnCode: {} } }),
      );
      expect(userId).toBeTruthy();
    } finally {
      session.destroy();
    }
  });

  it("closes the HTTP/1.1 connections of a client beyond its share", async () => {
    const port = Number(new URL(small.url).port);
    const sockets = Array.from({ length: 6 }, () => net.connect(port, "127.0.0.1"));
    let closed = 0;
    try {
      for (const socket of sockets) {
        socket.on("error", () => undefined);
        socket.once("close", () => (closed += 1));
        socket.write(`POST /oauth2/token HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/json\r\ncontent-length: 60001\r\n\r\n`);
        socket.write(unfinishedBody);
      }
      for (let waited = 0; closed < 5 && waited < 5_000; waited += 50) await sleep(50);
      // One whole unfinished body fits the share; the others do not.
      expect(closed).toBe(5);
    } finally {
      for (const socket of sockets) socket.destroy();
    }
  });
});

describe("client mistakes are 4xx, never 500", () => {
  const cases: [string, string, string, { headers?: http.OutgoingHttpHeaders; body?: string | Buffer }][] = [
    ["REST: a JSON array", "POST", "/v2/users/123/phone/verify", { headers: { "content-type": "application/json" }, body: "[]" }],
    ["REST: a JSON string", "POST", "/v2/users/123/phone/verify", { headers: { "content-type": "application/json" }, body: '"x"' }],
    ["REST: JSON null", "POST", "/v2/users/123/phone/verify", { headers: { "content-type": "application/json" }, body: "null" }],
    ["REST: a number for a string field", "POST", "/v2/users/123/phone/verify", { headers: { "content-type": "application/json" }, body: '{"verificationCode":123456}' }],
    ["REST: invalid UTF-8", "POST", "/v2/users/123/phone/verify", { headers: { "content-type": "application/json" }, body: Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]) }],
    ["REST: deeply nested JSON", "POST", "/v2/users/123/phone/verify", { headers: { "content-type": "application/json" }, body: `${"[".repeat(1_500)}${"]".repeat(1_500)}` }],
    ["REST: a bad percent escape in the path", "POST", "/v2/users/%ZZ/phone/verify", { headers: { "content-type": "application/json" }, body: "{}" }],
    ["REST: a percent escape that is not UTF-8", "POST", "/v2/users/%E0%A4%A/phone/verify", { headers: { "content-type": "application/json" }, body: "{}" }],
    ["REST: an encoded slash in the user id", "GET", "/v2/users/a%2Fb", {}],
    ["REST: a very long user id", "GET", `/v2/users/${"9".repeat(3_000)}`, {}],
    ["REST: a bad query parameter", "GET", "/v2/users/123?userId=1&userId=2", {}],
    ["REST: a body on GET", "GET", "/v2/users/123", { headers: { "content-type": "application/json" }, body: '{"x":1}' }],
    ["REST: an unknown user", "GET", "/v2/users/123", {}],
    ["REST: an empty user id", "GET", "/v2/users/", {}],
    ["REST: a DELETE with a body", "DELETE", "/v2/users/123/phone", { headers: { "content-type": "application/json" }, body: "{" }],
    ["Connect: malformed JSON", "POST", "/zitadel.user.v2.UserService/VerifyPhone", { headers: { "content-type": "application/json", "connect-protocol-version": "1" }, body: "{nope" }],
    ["Connect: unknown JSON field", "POST", "/zitadel.user.v2.UserService/VerifyPhone", { headers: { "content-type": "application/json", "connect-protocol-version": "1" }, body: '{"nope":1}' }],
    ["Connect: a JSON array", "POST", "/zitadel.user.v2.UserService/VerifyPhone", { headers: { "content-type": "application/json", "connect-protocol-version": "1" }, body: "[]" }],
    ["Connect: garbage protobuf", "POST", "/zitadel.user.v2.UserService/VerifyPhone", { headers: { "content-type": "application/proto", "connect-protocol-version": "1" }, body: Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f, 0x01]) }],
    ["Connect: truncated protobuf", "POST", "/zitadel.user.v2.UserService/VerifyPhone", { headers: { "content-type": "application/proto", "connect-protocol-version": "1" }, body: Buffer.from([0x0a, 0x10, 0x31]) }],
    ["Connect: invalid UTF-8 in a protobuf string", "POST", "/zitadel.user.v2.UserService/VerifyPhone", { headers: { "content-type": "application/proto", "connect-protocol-version": "1" }, body: Buffer.from([0x0a, 0x02, 0xff, 0xfe]) }],
    ["Connect: a wrong protocol version", "POST", "/zitadel.user.v2.UserService/VerifyPhone", { headers: { "content-type": "application/json", "connect-protocol-version": "2" }, body: "{}" }],
    ["Connect: GET on a method with side effects", "GET", "/zitadel.user.v2.UserService/VerifyPhone?encoding=json&message=%7B%7D&connect=v1", {}],
    ["Connect: a bad timeout header", "POST", "/zitadel.user.v2.UserService/GetUserByID", { headers: { "content-type": "application/json", "connect-protocol-version": "1", "connect-timeout-ms": "soon" }, body: '{"userId":"1"}' }],
    ["Connect: gzip that is not gzip", "POST", "/zitadel.user.v2.UserService/GetUserByID", { headers: { "content-type": "application/json", "connect-protocol-version": "1", "content-encoding": "gzip" }, body: "not gzip" }],
    ["gRPC-Web: a truncated frame", "POST", "/zitadel.user.v2.UserService/VerifyPhone", { headers: { "content-type": "application/grpc-web+proto", "x-grpc-web": "1" }, body: Buffer.from([0, 0, 0, 0, 100, 1, 2]) }],
    ["gRPC-Web: a bad timeout header", "POST", "/zitadel.user.v2.UserService/GetUserByID", { headers: { "content-type": "application/grpc-web+proto", "x-grpc-web": "1", "grpc-timeout": "forever" }, body: grpcFrame(new Uint8Array()) }],
  ];

  it.each(cases)("%s", async (_name, method, path, options) => {
    const response = await request(method, path, options);
    expect(response.status, response.text).toBeGreaterThanOrEqual(200);
    expect(response.status, response.text).toBeLessThan(500);
    if (response.headers["content-type"]?.startsWith("application/grpc")) {
      // gRPC-Web carries the verdict in grpc-status, which must be an error.
      const grpcStatus = response.headers["grpc-status"] ?? /grpc-status:\s*(\d+)/.exec(response.text)?.[1];
      expect(grpcStatus).toBeDefined();
      expect(grpcStatus).not.toBe("0");
    } else {
      expect(response.status, response.text).toBeGreaterThanOrEqual(400);
    }
  });

  // gRPC answers every call with HTTP 200; the verdict is grpc-status. grpc-go answers some of these with Internal
  // too, so only an answer in gRPC's framing with an error status is required here.
  it.each([
    ["a truncated frame", Buffer.from([0, 0, 0, 0, 100, 1, 2])],
    ["a compressed frame without grpc-encoding", Buffer.from([1, 0, 0, 0, 1, 0])],
    ["garbage protobuf", grpcFrame(Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f]))],
    ["two messages for a unary method", Buffer.concat([grpcFrame(new Uint8Array()), grpcFrame(new Uint8Array())])],
  ])("gRPC: %s is answered in gRPC framing with an error status", async (_name, body) => {
    const response = await h2request(
      { ":path": "/zitadel.user.v2.UserService/VerifyPhone", "content-type": "application/grpc", te: "trailers" },
      body,
    );
    expect(response.headers[":status"]).toBe(200);
    expect(response.headers["content-type"]).toMatch(/^application\/grpc/);
    const grpcStatus = response.headers["grpc-status"] ?? response.trailers["grpc-status"];
    expect(grpcStatus).toBeDefined();
    expect(grpcStatus).not.toBe("0");
  });

  it("answers an oversized header block with 431", async () => {
    const response = await request("GET", "/v2/users/123", { headers: { "x-big": "x".repeat(20_000) } });
    expect(response.status).toBe(431);
  });

  it("answers an oversized header block over HTTP/2 with 431 too, though HTTP/2 only advertises the limit", async () => {
    const { userId, code } = await userWithPhoneCode();
    const response = await h2request({ ":path": `/v2/users/${userId}/phone/verify`, "content-type": "application/json", "x-big": "x".repeat(20_000) }, Buffer.from(JSON.stringify({ verificationCode: code })));
    expect(response.headers[":status"]).toBe(431);
    expect((await phoneOf(userId)).isVerified).toBeFalsy();
  });

  // Node keeps the first of each; a proxy in front may read the last.
  it.each([
    ["Host", "Host: 127.0.0.1\r\nHost: evil.example"],
    ["Authorization", "Authorization: Bearer first\r\nAuthorization: Bearer second"],
  ])("refuses a request with two %s headers with 400", async (name, lines) => {
    const host = name === "Host" ? "" : `Host: ${address.host}:${address.port}\r\n`;
    const auth = name === "Authorization" ? "" : `Authorization: Bearer ${server.adminToken}\r\n`;
    const answer = (await sendRaw(Buffer.from(`GET /v2/users/123 HTTP/1.1\r\n${host}${auth}${lines}\r\nConnection: close\r\n\r\n`))).toString();
    expect(answer).toMatch(/^HTTP\/1\.1 400 /);
    expect(answer).toContain(`{"code":3,"message":"the request has more than one ${name} header"}`);
  });

  it("refuses an HTTP/2 request whose Host names another server than its :authority with 400", async () => {
    const { userId, code } = await userWithPhoneCode();
    const verify = (headers: http2.OutgoingHttpHeaders) =>
      h2request({ ":path": `/v2/users/${userId}/phone/verify`, "content-type": "application/json", ...headers }, Buffer.from(JSON.stringify({ verificationCode: code })));
    const refused = await verify({ ":authority": `${address.host}:${address.port}`, host: "evil.example" });
    expect(refused.headers[":status"]).toBe(400);
    expect(refused.body.toString()).toContain("the request's Host header names another server than its :authority");
    expect((await phoneOf(userId)).isVerified).toBeFalsy();
    const same = `${address.host}:${address.port}`;
    expect((await verify({ ":authority": same, host: same })).headers[":status"]).toBe(200);
  });
});

describe("text that hides, reorders or imitates other text", () => {
  const add = (fields: Record<string, unknown>, protocol: ProtocolName = "connect-json") =>
    protocolClient(protocol, server.url, server.adminToken).call("addHumanUser", {
      profile,
      phone: { phone: uniqueMobile(), returnCode: {} },
      ...fields,
    });
  const tag = () => randomBytes(4).toString("hex");
  const notALanguage = 'profile.preferred_language must be a BCP 47 language tag, such as "de" or "de-CH"';

  it.each([
    ["a NUL in a given name", { profile: { ...profile, givenName: "Ada\u0000" } }, "profile.given_name may not hold control characters"],
    ["a right-to-left override in a family name", { profile: { ...profile, familyName: "Love\u202Ecalpe" } }, "profile.family_name may not hold characters that reorder text (bidirectional overrides and isolates)"],
    ["a fullwidth username", { username: "ｂｏｂ" }, 'username must be written in its plain (NFKC) form: "bob"'],
    ["a zero-width space in a username", { username: "bob\u200B" }, "username may not hold control or invisible characters"],
    ["spaces around a username", { username: " bob " }, "username may not begin or end with a space"],
    ["a user id with a slash", { userId: "a/b" }, "user_id may hold only ASCII letters, digits and . _ @ -, and not begin with a dot"],
    ["the user id ..", { userId: ".." }, "user_id may hold only ASCII letters, digits and . _ @ -, and not begin with a dot"],
    ["the user id me", { userId: "me" }, 'user_id "me" is how Kii\'s API names the caller'],
    ["a NUL in a preferred language", { profile: { ...profile, preferredLanguage: "de\u0000" } }, notALanguage],
    ["a right-to-left override in a preferred language", { profile: { ...profile, preferredLanguage: "de\u202E" } }, notALanguage],
    ["a path as a preferred language", { profile: { ...profile, preferredLanguage: "../../x" } }, notALanguage],
  ])("refuses %s with InvalidArgument TEXT_INVALID, creating nobody", async (_name, fields, message) => {
    for (const protocol of ["connect-json", "rest", "grpc"] as const) {
      const refused = expectFailure(await add(fields, protocol));
      expect(refused, protocol).toMatchObject({ code: Code.InvalidArgument, message: `${message} (USER-t3xt1)`, errorInfo: { reason: "TEXT_INVALID" } });
    }
  });

  it("takes names in any script, with the joiners some scripts need, and addresses as usernames", async () => {
    for (const fields of [
      { profile: { givenName: "Zoë", familyName: "Ødegård" } },
      { profile: { givenName: "نیلوفر\u200C", familyName: "محمدی" }, username: `نیلوفر-${tag()}` },
      { username: `ada.lovelace+${tag()}@example.com`, userId: `ada_${tag()}-1@x` },
    ]) {
      expectOk(await add(fields));
    }
  });

  it("takes any BCP 47 language tag as a preferred language, in any case, with Java's _ too, or none, and answers it as given", async () => {
    for (const preferredLanguage of ["de", "DE-ch", "de_CH", "zh-Hant-TW", "es-419", "de-DE-1996", "i-klingon", "x-pirate", ""]) {
      const { userId } = expectOk(await add({ profile: { ...profile, preferredLanguage } }));
      const { user } = expectOk(await protocolClient("connect-json", server.url, server.adminToken).call("getUserByID", { userId }));
      expect((user as { human: { profile: object } }).human.profile, preferredLanguage).toMatchObject({ preferredLanguage });
    }
  });

  it("refuses a language that is no tag through CreateUser too", async () => {
    const { details } = expectOk(await add({}));
    const organizationId = (details as { resourceOwner: string }).resourceOwner;
    const human = { profile: { ...profile, preferredLanguage: "de\u0000" }, phone: { phone: uniqueMobile(), returnCode: {} } };
    const refused = expectFailure(await protocolClient("connect-json", server.url, server.adminToken).call("createUser", { organizationId, human }));
    expect(refused).toMatchObject({ code: Code.InvalidArgument, message: `${notALanguage} (USER-t3xt1)`, errorInfo: { reason: "TEXT_INVALID" } });
  });
});

describe("CORS", () => {
  const preflight = (origin: string, path: string, requestHeaders: string) =>
    request("OPTIONS", path, {
      headers: { origin, "access-control-request-method": "POST", "access-control-request-headers": requestHeaders },
    });

  it.each([
    ["Connect", "/zitadel.user.v2.UserService/VerifyPhone", "content-type,connect-protocol-version"],
    ["gRPC-Web", "/zitadel.user.v2.UserService/VerifyPhone", "content-type,x-grpc-web,x-user-agent"],
    ["REST", "/v2/users/123/phone/verify", "content-type"],
  ])("answers a %s preflight from an allowed origin with 204 and the protocols' headers", async (_name, path, requestHeaders) => {
    const response = await preflight(allowedOrigin, path, requestHeaders);
    expect(response.status).toBe(204);
    expect(response.headers["access-control-allow-origin"]).toBe(allowedOrigin);
    const allowedHeaders = String(response.headers["access-control-allow-headers"])
      .toLowerCase()
      .split(/,\s*/);
    expect(allowedHeaders).toEqual(
      expect.arrayContaining(["content-type", "connect-protocol-version", "x-grpc-web", "authorization", "x-zitadel-orgid"]),
    );
    expect(String(response.headers["access-control-allow-methods"])).toContain("POST");
  });

  const refusedOrigin = {
    code: 7,
    message: "the origin https://evil.example may not call this server; list it in --cors-origins (VERIFYD_CORS_ORIGINS)",
  };

  it("refuses another origin's preflight and call with 403 naming --cors-origins, and no CORS headers", async () => {
    const response = await preflight("https://evil.example", "/zitadel.user.v2.UserService/VerifyPhone", "content-type");
    expect(response.status).toBe(403);
    expect(Object.keys(response.headers).filter((name) => name.startsWith("access-control-"))).toEqual([]);

    const { userId, code } = await userWithPhoneCode();
    const call = await request("POST", `/v2/users/${userId}/phone/verify`, {
      headers: { origin: "https://evil.example", "content-type": "application/json" },
      body: JSON.stringify({ verificationCode: code }),
    });
    expect(call.status).toBe(403);
    expect(JSON.parse(call.text)).toEqual(refusedOrigin);
    expect(Object.keys(call.headers).filter((name) => name.startsWith("access-control-"))).toEqual([]);
    expect((await phoneOf(userId)).isVerified).toBeFalsy();
  });

  // A form's POST is a "simple" request: the browser sends it without a preflight, so CORS alone would let any site
  // make its visitors' browsers guess passwords (and use up the login throttle of the names it tries).
  it("refuses a login another site's form posts, but takes one from the server's own origin", async () => {
    const username = `origin-${randomBytes(4).toString("hex")}`;
    const password = "correct horse battery";
    expectOk(
      await protocolClient("connect-json", server.url, server.adminToken).call("addHumanUser", {
        username,
        profile,
        phone: { phone: uniqueMobile(), isVerified: true },
        password: { password },
      }),
    );
    const login = (origin: string) =>
      new Promise<RawResponse>((resolve, reject) => {
        const body = new URLSearchParams({ grant_type: "password", username, password }).toString();
        const headers = { origin, "content-type": "application/x-www-form-urlencoded" };
        const req = http.request({ ...address, method: "POST", path: "/oauth2/token", headers, agent: false }, (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (chunk: Buffer) => chunks.push(chunk));
          res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks), text: Buffer.concat(chunks).toString() }));
        });
        req.on("error", reject);
        req.end(body);
      });
    const forged = await login("https://evil.example");
    expect(forged.status).toBe(403);
    expect(JSON.parse(forged.text)).toEqual(refusedOrigin);
    expect(forged.text).not.toContain("access_token");
    const own = await login(server.url);
    expect(own.status).toBe(200);
    expect(JSON.parse(own.text)).toMatchObject({ token_type: "bearer" });
  });

  it("lets an allowed origin read the answer to an actual call", async () => {
    const { userId, code } = await userWithPhoneCode();
    const response = await request("POST", "/zitadel.user.v2.UserService/VerifyPhone", {
      headers: { origin: allowedOrigin, "content-type": "application/json", "connect-protocol-version": "1" },
      body: JSON.stringify({ userId, verificationCode: code }),
    });
    expect(response.status).toBe(200);
    expect(response.headers["access-control-allow-origin"]).toBe(allowedOrigin);
    expect(String(response.headers["access-control-expose-headers"]).toLowerCase()).toContain("grpc-status");
  });

  it("lets it read how long a refusal says to wait, and what a 401 asks for", async () => {
    const response = await request("GET", "/v2/users/1", { headers: { origin: allowedOrigin } });
    expect(response.status).toBe(404);
    const exposed = String(response.headers["access-control-expose-headers"]).toLowerCase().split(/,\s*/);
    expect(exposed).toEqual(expect.arrayContaining(["retry-after", "www-authenticate", "x-request-id", "location", "allow"]));
  });
});

function unknownMethod(): DescMethodUnary {
  const original = UserService.method.verifyPhone;
  const method = { ...original, name: "NoSuchMethod", localName: "noSuchMethod" } as DescMethodUnary;
  const service = { ...UserService, method: { noSuchMethod: method }, methods: [method] } as unknown as DescService;
  (method as { parent: DescService }).parent = service;
  return method;
}

function connect(): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(address.port, address.host, () => resolve(socket));
    socket.once("error", reject);
    // After connecting, a reset from the server is an expected way for it to hang up.
    socket.on("error", () => undefined);
  });
}

/** Writes bytes on a fresh connection and collects whatever comes back until the server closes it. */
async function sendRaw(bytes: Buffer): Promise<Buffer> {
  const socket = await connect();
  const received: Buffer[] = [];
  socket.on("data", (chunk: Buffer) => received.push(chunk));
  const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
  socket.write(bytes);
  await closed;
  return Buffer.concat(received);
}
