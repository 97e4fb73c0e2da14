// gRPC-Web's text mode (application/grpc-web-text), the default of Google's grpc-web client for browsers: request
// and response bodies are the gRPC-Web frames in base64, on the same paths as binary gRPC-Web.
import http from "node:http";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ErrorInfoSchema } from "../../src/gen/google/rpc/error_details_pb.js";
import { StatusSchema } from "../../src/gen/google/rpc/status_pb.js";
import {
  HealthCheckRequestSchema,
  HealthCheckResponseSchema,
  HealthCheckResponse_ServingStatus as ServingStatus,
} from "../../src/gen/grpc/health/v1/health_pb.js";
import { VerifyPhoneRequestSchema, VerifyPhoneResponseSchema } from "../../src/gen/zitadel/user/v2/user_service_pb.js";
import { userWithPhoneCode } from "../helpers/api-session.js";
import { decodePaddedBase64, grpcFrame, parseGrpcWebBody } from "../helpers/grpc-frames.js";
import { type TestServer, startTestServer } from "../helpers/test-server.js";

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.close();
});

const verifyPhonePath = "/zitadel.user.v2.UserService/VerifyPhone";

function verifyPhoneFrame(userId: string, verificationCode: string): Buffer {
  return grpcFrame(toBinary(VerifyPhoneRequestSchema, create(VerifyPhoneRequestSchema, { userId, verificationCode })));
}

/** As Google's grpc-web client sends it. */
function textCall(path: string, body: string, contentType = "application/grpc-web-text") {
  return fetch(`${server.url}${path}`, {
    method: "POST",
    headers: {
      "content-type": contentType,
      accept: "application/grpc-web-text",
      "x-grpc-web": "1",
      authorization: `Bearer ${server.adminToken}`,
    },
    body,
  });
}

async function decodedBody(response: Response) {
  const text = await response.text();
  expect(text).toMatch(/^[A-Za-z0-9+/=]*$/);
  return parseGrpcWebBody(decodePaddedBase64(text));
}

describe("gRPC-Web text mode", () => {
  it.each(["application/grpc-web-text", "application/grpc-web-text+proto"])(
    "verifies a phone with %s, from base64 in padded segments laid end to end",
    async (contentType) => {
      const { userId, code } = await userWithPhoneCode(server);
      const frame = verifyPhoneFrame(userId, code);
      // Split where neither half is a multiple of 3 bytes, so both segments carry padding.
      const cut = frame.length % 3 === 1 ? 4 : 5;
      const body = frame.subarray(0, cut).toString("base64") + frame.subarray(cut).toString("base64");
      expect(body.slice(0, -2)).toContain("=");

      const response = await textCall(verifyPhonePath, body, contentType);
      expect(response.status).toBe(200);
      expect(response.headers.get("content-type")).toBe("application/grpc-web-text+proto");
      const { messages, trailer } = await decodedBody(response);
      expect(trailer?.["grpc-status"]).toBe("0");
      expect(messages).toHaveLength(1);
      const verified = fromBinary(VerifyPhoneResponseSchema, messages[0]!);
      expect(verified.details?.sequence).toBe(3n);
    },
  );

  it("answers a wrong code with InvalidArgument, its message and its ErrorInfo in grpc-status-details-bin", async () => {
    const { userId, code } = await userWithPhoneCode(server);
    const wrong = code === "000000" ? "111111" : "000000";
    const response = await textCall(verifyPhonePath, verifyPhoneFrame(userId, wrong).toString("base64"));
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("application/grpc-web-text+proto");
    const { messages, trailer } = await decodedBody(response);
    expect(messages).toEqual([]);
    expect(trailer?.["grpc-status"]).toBe("3");
    expect(decodeURIComponent(trailer?.["grpc-message"] ?? "")).toBe("Code is invalid (COMMAND-eis9R)");
    const status = fromBinary(StatusSchema, decodePaddedBase64(trailer?.["grpc-status-details-bin"] ?? ""));
    const info = status.details.find((detail) => detail.typeUrl.endsWith("/google.rpc.ErrorInfo"));
    expect(info && fromBinary(ErrorInfoSchema, info.value)).toMatchObject({
      reason: "INVALID_VERIFICATION_CODE",
      metadata: { attemptsLeft: "4" },
    });
  });

  it.each([
    ["characters outside base64", "!!!!"],
    ["a length that is not a multiple of 4", verifyPhoneFrame("1", "123456").toString("base64").slice(0, -1)],
    ["data after the padding inside a quantum", "AA=A"],
  ])("answers a body with %s with InvalidArgument, not a 4xx or 5xx", async (_name, body) => {
    const response = await textCall(verifyPhonePath, body);
    expect(response.status).toBe(200);
    const { trailer } = await decodedBody(response);
    expect(trailer?.["grpc-status"]).toBe("3");
  });

  it("streams Health/Watch: each message can be read as soon as it is sent, before the stream ends", async () => {
    const request = grpcFrame(toBinary(HealthCheckRequestSchema, create(HealthCheckRequestSchema, {}))).toString("base64");
    const url = new URL(server.url);
    const req = http.request({
      host: url.hostname,
      port: url.port,
      method: "POST",
      path: "/grpc.health.v1.Health/Watch",
      headers: {
        "content-type": "application/grpc-web-text",
        accept: "application/grpc-web-text",
        "x-grpc-web": "1",
        authorization: `Bearer ${server.adminToken}`,
      },
    });
    try {
      let contentType: string | undefined;
      const firstMessage = await new Promise<Buffer>((resolve, reject) => {
        req.on("error", reject);
        req.on("response", (res) => {
          contentType = res.headers["content-type"];
          let text = "";
          res.setEncoding("latin1");
          res.on("data", (chunk: string) => {
            text += chunk;
            // The watch stays open: the first status must be complete without waiting for another message.
            const frames = decodePaddedBase64(text.slice(0, text.length - (text.length % 4)));
            const length = frames.length >= 5 ? frames.readUInt32BE(1) : Number.POSITIVE_INFINITY;
            if (frames.length >= 5 + length) resolve(frames.subarray(5, 5 + length));
          });
          res.on("end", () => reject(new Error(`the stream ended; it should stay open (${text})`)));
        });
        req.end(request);
      });
      expect(contentType).toBe("application/grpc-web-text+proto");
      expect(fromBinary(HealthCheckResponseSchema, firstMessage).status).toBe(ServingStatus.SERVING);
    } finally {
      req.destroy();
    }
  });
});
