// Plain unary calls in binary protobuf take a leaner path than connect-es's (src/transport/unary-fast-path.ts);
// everything else is handed to connect-es with the bytes already read. These tests write gRPC, gRPC-Web and Connect by
// hand and check that both paths give the answers clients rely on: however the body is cut into DATA frames,
// compressed or not, with or without a deadline, and for bodies that are not one plain message.
import http from "node:http";
import http2 from "node:http2";
import zlib from "node:zlib";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Health, HealthCheckResponse_ServingStatus as HealthStatus } from "../../src/gen/grpc/health/v1/health_pb.js";
import {
  ListUsersRequestSchema,
  ListUsersResponseSchema,
  VerifyPhoneRequestSchema,
  VerifyPhoneResponseSchema,
} from "../../src/gen/zitadel/user/v2/user_service_pb.js";
import { uniqueMobile, userWithPhoneCode } from "../helpers/api-session.js";
import { grpcFrame, grpcWebTrailerNames, parseGrpcWebBody } from "../helpers/grpc-frames.js";
import { type ProtocolName, expectFailure, expectOk, protocolClient } from "../helpers/protocol-clients.js";
import { type TestServer, startTestServer } from "../helpers/test-server.js";

const verifyPhonePath = "/zitadel.user.v2.UserService/VerifyPhone";
let server: TestServer;

beforeAll(async () => {
  server = await startTestServer(["--max-body-bytes", "4KiB"]);
});

afterAll(async () => {
  await server?.close();
});

async function isPhoneVerified(userId: string): Promise<boolean> {
  const user = expectOk(await protocolClient("connect-json", server.url, server.adminToken).call("getUserByID", { userId }));
  return Boolean((user as { user: { human: { phone: { isVerified?: boolean } } } }).user.human.phone.isVerified);
}

function verifyPhoneMessage(userId: string, verificationCode: string): Uint8Array {
  return toBinary(VerifyPhoneRequestSchema, create(VerifyPhoneRequestSchema, { userId, verificationCode }));
}

interface GrpcAnswer {
  headers: http2.IncomingHttpHeaders;
  /** grpc-status and friends, from the trailers or, for a trailers-only answer, the headers. */
  status: http2.IncomingHttpHeaders;
  body: Buffer;
}

/** One gRPC call by hand: the body written in the pieces given, each piece a DATA frame of its own. */
function grpcCall(pieces: Buffer[], headers: http2.OutgoingHttpHeaders = {}): Promise<GrpcAnswer> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(server.url);
    session.on("error", reject);
    const stream = session.request({
      ":method": "POST",
      ":path": verifyPhonePath,
      "content-type": "application/grpc",
      te: "trailers",
      authorization: `Bearer ${server.adminToken}`,
      ...headers,
    });
    let responseHeaders: http2.IncomingHttpHeaders = {};
    let trailers: http2.IncomingHttpHeaders | undefined;
    const chunks: Buffer[] = [];
    stream.on("response", (h) => (responseHeaders = h));
    stream.on("trailers", (t) => (trailers = t));
    stream.on("data", (chunk: Buffer) => chunks.push(chunk));
    stream.on("end", () => {
      session.close();
      resolve({ headers: responseHeaders, status: trailers ?? responseHeaders, body: Buffer.concat(chunks) });
    });
    stream.on("error", reject);
    const writeNext = (index: number): void => {
      if (index === pieces.length) {
        stream.end();
        return;
      }
      stream.write(pieces[index], () => setTimeout(() => writeNext(index + 1), 5));
    };
    writeNext(0);
  });
}

function split(bytes: Buffer, size: number): Buffer[] {
  const pieces: Buffer[] = [];
  for (let offset = 0; offset < bytes.length; offset += size) pieces.push(bytes.subarray(offset, offset + size));
  return pieces;
}

describe("unary gRPC calls written by hand", () => {
  it("verifies with a body in one DATA frame, answering details in one message and grpc-status 0 in the trailers", async () => {
    const { userId, code } = await userWithPhoneCode(server);
    const answer = await grpcCall([grpcFrame(verifyPhoneMessage(userId, code))]);

    expect(answer.headers[":status"]).toBe(200);
    expect(answer.headers["content-type"]).toBe("application/grpc+proto");
    expect(answer.status["grpc-status"]).toBe("0");
    expect(answer.body.readUInt8(0)).toBe(0);
    expect(answer.body.readUInt32BE(1)).toBe(answer.body.length - 5);
    const response = fromBinary(VerifyPhoneResponseSchema, answer.body.subarray(5));
    expect(response.details?.resourceOwner).not.toBe("");
    expect(await isPhoneVerified(userId)).toBe(true);
  });

  it("verifies with a body cut into DATA frames of 3 bytes, the envelope's header split too", async () => {
    const { userId, code } = await userWithPhoneCode(server);
    const answer = await grpcCall(split(grpcFrame(verifyPhoneMessage(userId, code)), 3));
    expect(answer.status["grpc-status"]).toBe("0");
    expect(await isPhoneVerified(userId)).toBe(true);
  });

  it("verifies a gzip-compressed message, and answers a wrong code with grpc-status 3 and its details", async () => {
    const { userId, code } = await userWithPhoneCode(server);
    const wrong = await grpcCall([grpcFrame(zlib.gzipSync(verifyPhoneMessage(userId, "000000")), 1)], { "grpc-encoding": "gzip" });
    expect(wrong.status["grpc-status"]).toBe("3");
    expect(wrong.status["grpc-status-details-bin"]).toBeTruthy();

    const right = await grpcCall([grpcFrame(zlib.gzipSync(verifyPhoneMessage(userId, code)), 1)], { "grpc-encoding": "gzip" });
    expect(right.status["grpc-status"]).toBe("0");
    expect(await isPhoneVerified(userId)).toBe(true);
  });

  // gRPC's spec names gzip and deflate; grpcio's Compression.Deflate was refused with Unimplemented on every call.
  it("verifies a deflate-compressed message, and refuses one that does not inflate", async () => {
    const { userId, code } = await userWithPhoneCode(server);
    const broken = await grpcCall([grpcFrame(Buffer.from("not deflate at all"), 1)], { "grpc-encoding": "deflate" });
    expect(broken.status["grpc-status"]).toBe("3");
    const right = await grpcCall([grpcFrame(zlib.deflateSync(verifyPhoneMessage(userId, code)), 1)], { "grpc-encoding": "deflate" });
    expect(right.status["grpc-status"]).toBe("0");
    expect(await isPhoneVerified(userId)).toBe(true);
  });

  // An HTTP/2 trial: gRPC's largest timeouts overflowed Node's timers, which fired at once with a warning per call.
  it("takes a deadline further away than a timer can wait as none, and a health watch then keeps streaming", async () => {
    const { userId, code } = await userWithPhoneCode(server);
    const far = await grpcCall([grpcFrame(verifyPhoneMessage(userId, code))], { "grpc-timeout": "99999999H" });
    expect(far.status["grpc-status"]).toBe("0");
    const watch = createClient(Health, createGrpcTransport({ baseUrl: server.url }));
    const controller = new AbortController();
    const statuses: number[] = [];
    const watching = (async () => {
      for await (const response of watch.watch({}, { signal: controller.signal, headers: { "grpc-timeout": "2562047H" } })) statuses.push(response.status);
    })().catch((error: unknown) => error);
    await expect.poll(() => statuses).toEqual([HealthStatus.SERVING]);
    // Still open after the timers of the old behaviour would have fired: closed only by the client.
    await new Promise((resolve) => setTimeout(resolve, 300));
    controller.abort();
    expect(ConnectError.from(await watching).code).toBe(Code.Canceled);
  });

  // An HTTP/2 trial: flags 0x80 (gRPC-Web's trailers) and 0x02 (reserved) were read as a plain message.
  it.each([0x80, 0x02])("refuses a request envelope with flags %i, verifying nothing", async (flags) => {
    const { userId, code } = await userWithPhoneCode(server);
    const message = verifyPhoneMessage(userId, code);
    const envelope = Buffer.concat([Buffer.from([flags, 0, 0, 0, 0]), message]);
    envelope.writeUInt32BE(message.length, 1);
    const answer = await grpcCall([envelope]);
    expect(answer.status["grpc-status"]).toBe("3");
    expect(await isPhoneVerified(userId)).toBe(false);
  });

  it("verifies within a grpc-timeout, and refuses a malformed or already passed grpc-timeout without verifying", async () => {
    const first = await userWithPhoneCode(server);
    const malformed = await grpcCall([grpcFrame(verifyPhoneMessage(first.userId, first.code))], { "grpc-timeout": "soon" });
    expect(malformed.status["grpc-status"]).not.toBe("0");
    expect(await isPhoneVerified(first.userId)).toBe(false);

    // A deadline that has passed on arrival (noted by a hostile-client trial: it was served).
    const expired = await grpcCall([grpcFrame(verifyPhoneMessage(first.userId, first.code))], { "grpc-timeout": "0n" });
    expect(expired.status["grpc-status"]).toBe("4");
    expect(await isPhoneVerified(first.userId)).toBe(false);

    const timed = await grpcCall([grpcFrame(verifyPhoneMessage(first.userId, first.code))], { "grpc-timeout": "5S" });
    expect(timed.status["grpc-status"]).toBe("0");
    expect(await isPhoneVerified(first.userId)).toBe(true);
  });

  it.each([
    ["two messages", (message: Uint8Array) => [grpcFrame(message), grpcFrame(message)], "12"],
    ["a truncated message", (message: Uint8Array) => [grpcFrame(message).subarray(0, 8)], "3"],
    ["no message at all", () => [], "12"],
    ["a message declared larger than --max-body-bytes", () => [Buffer.from([0, 0, 0, 0x20, 0])], "8"],
    ["a message that is not protobuf", () => [grpcFrame(Buffer.from([0xff, 0xff, 0xff]))], "3"],
  ])("answers %s with grpc-status %s and verifies nothing", async (_name, body, status) => {
    const { userId, code } = await userWithPhoneCode(server);
    const answer = await grpcCall(body(verifyPhoneMessage(userId, code)));
    expect(answer.headers[":status"]).toBe(200);
    expect(answer.status["grpc-status"]).toBe(status);
    expect(await isPhoneVerified(userId)).toBe(false);
  });
});

/** One HTTP/1.1 call by hand, as browsers make gRPC-Web and Connect calls. */
function http1Call(
  headers: http.OutgoingHttpHeaders,
  body: Buffer,
  path = verifyPhonePath,
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
  const url = new URL(server.url);
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: url.hostname,
        port: url.port,
        method: "POST",
        path,
        agent: false,
        headers: { authorization: `Bearer ${server.adminToken}`, ...headers },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

describe("unary gRPC-Web calls written by hand, over HTTP/1.1", () => {
  const grpcWeb = { "content-type": "application/grpc-web+proto", "x-grpc-web": "1" };

  it("verifies, answering one message and a trailer frame with grpc-status 0", async () => {
    const { userId, code } = await userWithPhoneCode(server);
    const answer = await http1Call(grpcWeb, grpcFrame(verifyPhoneMessage(userId, code)));
    expect(answer.status).toBe(200);
    expect(answer.headers["content-type"]).toBe("application/grpc-web+proto");
    const { messages, trailer } = parseGrpcWebBody(answer.body);
    expect(messages).toHaveLength(1);
    expect(fromBinary(VerifyPhoneResponseSchema, messages[0] as Buffer).details?.resourceOwner).not.toBe("");
    expect(trailer?.["grpc-status"]).toBe("0");
    expect(await isPhoneVerified(userId)).toBe(true);
  });

  it("answers a wrong code with only a trailer frame: grpc-status 3, the message and the details", async () => {
    const { userId } = await userWithPhoneCode(server);
    const answer = await http1Call(grpcWeb, grpcFrame(verifyPhoneMessage(userId, "000000")));
    const { messages, trailer } = parseGrpcWebBody(answer.body);
    expect(messages).toHaveLength(0);
    expect(trailer?.["grpc-status"]).toBe("3");
    expect(trailer?.["grpc-message"]).toBeTruthy();
    expect(trailer?.["grpc-status-details-bin"]).toBeTruthy();
    expect(await isPhoneVerified(userId)).toBe(false);
  });

  // PROTOCOL-WEB.md: trailer names in lower case. Google's grpc-web client reads "grpc-status" as written, so a
  // capitalised "Grpc-Status: 3" would reach its callers as a success without a message.
  it("writes the trailer frame's names in lower case, on a success and on a refusal", async () => {
    const { userId, code } = await userWithPhoneCode(server);
    const refused = await http1Call(grpcWeb, grpcFrame(verifyPhoneMessage(userId, "000000")));
    const verified = await http1Call(grpcWeb, grpcFrame(verifyPhoneMessage(userId, code)));

    expect(grpcWebTrailerNames(refused.body)).toEqual(expect.arrayContaining(["grpc-status", "grpc-message", "grpc-status-details-bin"]));
    expect(grpcWebTrailerNames(verified.body)).toContain("grpc-status");
    for (const name of [...grpcWebTrailerNames(refused.body), ...grpcWebTrailerNames(verified.body)]) {
      expect(name).toBe(name.toLowerCase());
    }
  });
});

// connect-es's rule: an answer is compressed only when the client accepts the encoding and it is at least 1 KiB.
describe("answers of 1 KiB or more, to a client that accepts gzip", () => {
  const listUsersPath = "/zitadel.user.v2.UserService/ListUsers";
  const listUsers = grpcFrame(toBinary(ListUsersRequestSchema, create(ListUsersRequestSchema, {})));
  const usersAdded = 10;

  beforeAll(async () => {
    for (let added = 0; added < usersAdded; added++) await userWithPhoneCode(server);
  });

  it("are gzip-compressed over gRPC when it says grpc-accept-encoding: gzip, and plain when it does not", async () => {
    const gzipped = await grpcCall([listUsers], { ":path": listUsersPath, "grpc-accept-encoding": "gzip" });
    expect(gzipped.status["grpc-status"]).toBe("0");
    expect(gzipped.headers["grpc-encoding"]).toBe("gzip");
    expect(gzipped.body.readUInt8(0)).toBe(1);
    expect(gzipped.body.readUInt32BE(1)).toBe(gzipped.body.length - 5);
    const unzipped = zlib.gunzipSync(gzipped.body.subarray(5));
    expect(unzipped.length).toBeGreaterThanOrEqual(1024);
    const listed = fromBinary(ListUsersResponseSchema, unzipped).result;
    expect(listed.length).toBeGreaterThanOrEqual(usersAdded);

    const plain = await grpcCall([listUsers], { ":path": listUsersPath });
    expect(plain.status["grpc-status"]).toBe("0");
    expect(plain.headers["grpc-encoding"]).toBeUndefined();
    expect(plain.body.readUInt8(0)).toBe(0);
    expect(fromBinary(ListUsersResponseSchema, plain.body.subarray(5)).result).toHaveLength(listed.length);
  });

  it("are gzip-compressed over gRPC-Web, the short trailer frame left plain", async () => {
    const grpcWeb = { "content-type": "application/grpc-web+proto", "x-grpc-web": "1", "grpc-accept-encoding": "gzip" };
    const answer = await http1Call(grpcWeb, listUsers, listUsersPath);
    expect(answer.status).toBe(200);
    expect(answer.headers["grpc-encoding"]).toBe("gzip");
    expect(answer.body.readUInt8(0)).toBe(1);
    const { messages, trailer } = parseGrpcWebBody(answer.body);
    expect(messages).toHaveLength(1);
    expect(fromBinary(ListUsersResponseSchema, zlib.gunzipSync(messages[0] as Buffer)).result.length).toBeGreaterThanOrEqual(usersAdded);
    expect(trailer?.["grpc-status"]).toBe("0");
  });
});

describe("unary Connect calls in binary protobuf written by hand", () => {
  const connectProto = { "content-type": "application/proto", "connect-protocol-version": "1" };

  it("verifies, answering the message itself with 200", async () => {
    const { userId, code } = await userWithPhoneCode(server);
    const answer = await http1Call(connectProto, Buffer.from(verifyPhoneMessage(userId, code)));
    expect(answer.status).toBe(200);
    expect(answer.headers["content-type"]).toBe("application/proto");
    expect(Number(answer.headers["content-length"])).toBe(answer.body.length);
    expect(fromBinary(VerifyPhoneResponseSchema, answer.body).details?.resourceOwner).not.toBe("");
    expect(await isPhoneVerified(userId)).toBe(true);
  });

  it("answers a wrong code with 400 and Connect's error JSON with its details", async () => {
    const { userId } = await userWithPhoneCode(server);
    const answer = await http1Call(connectProto, Buffer.from(verifyPhoneMessage(userId, "000000")));
    expect(answer.status).toBe(400);
    expect(answer.headers["content-type"]).toBe("application/json");
    const error = JSON.parse(answer.body.toString("utf8")) as { code: string; message: string; details: unknown[] };
    expect(error.code).toBe("invalid_argument");
    expect(error.message).toBeTruthy();
    expect(error.details.length).toBeGreaterThan(0);
  });

  it("verifies a gzip-compressed body, and refuses a body over --max-body-bytes with resource_exhausted", async () => {
    const { userId, code } = await userWithPhoneCode(server);
    const tooLarge = await http1Call(connectProto, Buffer.concat([Buffer.from(verifyPhoneMessage(userId, code)), Buffer.alloc(5000)]));
    expect(JSON.parse(tooLarge.body.toString("utf8"))).toMatchObject({ code: "resource_exhausted" });
    expect(await isPhoneVerified(userId)).toBe(false);

    const gzipped = await http1Call({ ...connectProto, "content-encoding": "gzip" }, zlib.gzipSync(verifyPhoneMessage(userId, code)));
    expect(gzipped.status).toBe(200);
    expect(await isPhoneVerified(userId)).toBe(true);
  });
});

// connect-es names its own option (`configured readMaxBytes 4096`), which no operator has set or can find.
describe("a message over --max-body-bytes", () => {
  const overTheLimit = /^message size (\d+ )?is larger than --max-body-bytes \(4096\)$/;

  it.each<ProtocolName>(["connect-json", "connect-binary", "connect-h2", "grpc", "grpc-web"])(
    "is refused over %s with ResourceExhausted naming the setting",
    async (protocol) => {
      const result = await protocolClient(protocol, server.url, server.adminToken).call("addHumanUser", {
        profile: { givenName: "A".repeat(5_000), familyName: "Lovelace" },
        phone: { phone: uniqueMobile(), returnCode: {} },
      });
      const failure = expectFailure(result);
      expect(failure.code).toBe(Code.ResourceExhausted);
      expect(failure.message).toMatch(overTheLimit);
    },
  );

  it("is refused on a gRPC stream, the watch's request, with the setting too", async () => {
    const health = createClient(Health, createGrpcTransport({ baseUrl: server.url }));
    const error = await (async () => {
      for await (const _ of health.watch({ service: "x".repeat(5_000) })) return undefined;
    })().then(
      () => undefined,
      (reason: unknown) => ConnectError.from(reason),
    );
    expect(error?.code).toBe(Code.ResourceExhausted);
    expect(error?.rawMessage).toMatch(overTheLimit);
  });
});
