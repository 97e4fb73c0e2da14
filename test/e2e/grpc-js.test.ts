// A client we did not write: @grpc/grpc-js with @grpc/proto-loader reading our .proto files at run time. It must
// get the same answers, status codes, messages and google.rpc.Status details (grpc-status-details-bin) as our own
// clients, and UNIMPLEMENTED for a method the service does not have.
import { type Message, fromBinary } from "@bufbuild/protobuf";
import type { DescMessage } from "@bufbuild/protobuf";
import { type Any, anyUnpack } from "@bufbuild/protobuf/wkt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BadRequestSchema, ErrorInfoSchema } from "../../src/gen/google/rpc/error_details_pb.js";
import { type Status, StatusSchema } from "../../src/gen/google/rpc/status_pb.js";
import { ErrorDetailSchema } from "../../src/gen/zitadel/v1/error_detail_pb.js";
import { type GrpcResult, callRawUnary, callUnary, grpc, loadUserServiceClient } from "../helpers/grpc-js-client.js";
import { type TestServer, startTestServer } from "../helpers/test-server.js";

let server: TestServer;
let client: grpc.Client;

beforeAll(async () => {
  // Loads the contract first: without third_party/ this fails with a message saying to run `npm run protos:deps`.
  const UserServiceClient = loadUserServiceClient();
  server = await startTestServer();
  client = new UserServiceClient(new URL(server.url).host, grpc.credentials.createInsecure());
});
afterAll(async () => {
  client?.close();
  await server?.close();
});

const profile = { givenName: "Ada", familyName: "Lovelace" };
const mobile = "+41791234567";

interface Timestamp {
  seconds?: string;
  nanos?: number;
}
interface Details {
  sequence?: string;
  changeDate?: Timestamp;
  resourceOwner?: string;
}

function expectOk<T>(result: GrpcResult<T>): T {
  if (!result.ok) throw new Error(`expected success, got ${result.error.code} ${result.error.details}`);
  return result.response;
}

function expectError(result: GrpcResult<unknown>): grpc.ServiceError {
  if (result.ok) throw new Error(`expected an error, got ${JSON.stringify(result.response)}`);
  return result.error;
}

/** The google.rpc.Status a gRPC server sends in the grpc-status-details-bin trailer. */
function statusDetails(error: grpc.ServiceError): Status {
  const values = error.metadata.get("grpc-status-details-bin");
  expect(values, "grpc-status-details-bin trailer").toHaveLength(1);
  const [value] = values;
  if (!Buffer.isBuffer(value)) throw new Error("grpc-status-details-bin is not binary metadata");
  return fromBinary(StatusSchema, value);
}

function unpack<Desc extends DescMessage>(status: Status, schema: Desc): Message[] {
  const typeUrl = `type.googleapis.com/${schema.typeName}`;
  const matching = status.details.filter((any: Any) => any.typeUrl === typeUrl);
  return matching.map((any) => {
    const message = anyUnpack(any, schema);
    if (!message) throw new Error(`could not unpack ${typeUrl}`);
    return message;
  });
}

function millis(timestamp: Timestamp | undefined): number {
  return Number(timestamp?.seconds ?? 0) * 1000 + Math.floor((timestamp?.nanos ?? 0) / 1e6);
}

async function userWithPhoneCode() {
  const added = expectOk(
    await callUnary<{ userId: string; phoneCode?: string; details?: Details }>(client, "AddHumanUser", {
      profile,
      phone: { phone: mobile, returnCode: {} },
    }),
  );
  return added;
}

describe("UserService through @grpc/grpc-js and @grpc/proto-loader", () => {
  it("adds a user with a phone code and verifies the phone", async () => {
    const added = await userWithPhoneCode();
    expect(added.userId).toMatch(/^\S+$/);
    expect(added.phoneCode).toMatch(/^\d{6}$/);

    const verified = expectOk(
      await callUnary<{ details?: Details }>(client, "VerifyPhone", {
        userId: added.userId,
        verificationCode: added.phoneCode,
      }),
    );
    expect(verified.details?.sequence).toBe("3");
    expect(millis(verified.details?.changeDate)).toBe(server.clock.now().getTime());
    expect(verified.details?.resourceOwner).toMatch(/^\d+$/);

    const user = expectOk(await callUnary(client, "GetUserByID", { userId: added.userId }));
    expect(user).toMatchObject({ user: { userId: added.userId, human: { phone: { phone: mobile, isVerified: true } } } });
  });

  it("answers a wrong code with INVALID_ARGUMENT and the ErrorDetail and ErrorInfo in grpc-status-details-bin", async () => {
    const { userId } = await userWithPhoneCode();
    const error = expectError(await callUnary(client, "VerifyPhone", { userId, verificationCode: "000000x" }));
    expect(error.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(error.code).toBe(3);
    expect(error.details).toBe("Code is invalid (COMMAND-eis9R)");

    const status = statusDetails(error);
    expect(status.code).toBe(3);
    expect(status.message).toBe("Code is invalid (COMMAND-eis9R)");
    expect(status.details.map((any) => any.typeUrl)).toEqual(
      expect.arrayContaining(["type.googleapis.com/zitadel.v1.ErrorDetail", "type.googleapis.com/google.rpc.ErrorInfo"]),
    );
    const [detail, ...moreDetails] = unpack(status, ErrorDetailSchema);
    expect(moreDetails).toEqual([]);
    expect(detail).toMatchObject({ id: "COMMAND-eis9R", message: "Code is invalid" });
    const [info, ...moreInfos] = unpack(status, ErrorInfoSchema);
    expect(moreInfos).toEqual([]);
    expect(info).toMatchObject({ reason: "INVALID_VERIFICATION_CODE", domain: "verifyd", metadata: { attemptsLeft: "4" } });
  });

  it("answers an unknown user with NOT_FOUND and ErrorInfo USER_NOT_FOUND", async () => {
    const error = expectError(await callUnary(client, "VerifyPhone", { userId: "123", verificationCode: "123456" }));
    expect(error.code).toBe(grpc.status.NOT_FOUND);
    const [info] = unpack(statusDetails(error), ErrorInfoSchema);
    expect(info).toMatchObject({ reason: "USER_NOT_FOUND" });
  });

  it("answers a code longer than 20 characters with INVALID_ARGUMENT and a google.rpc.BadRequest", async () => {
    const { userId } = await userWithPhoneCode();
    const error = expectError(await callUnary(client, "VerifyPhone", { userId, verificationCode: "x".repeat(21) }));
    expect(error.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(error.details).toContain("verification_code");
    const [badRequest] = unpack(statusDetails(error), BadRequestSchema);
    expect(badRequest).toMatchObject({ fieldViolations: [expect.objectContaining({ field: "verification_code" })] });
  });

  it("answers a field it does not support with UNIMPLEMENTED naming it", async () => {
    const error = expectError(
      await callUnary(client, "AddHumanUser", {
        profile,
        phone: { phone: mobile, returnCode: {} },
        metadata: [{ key: "k", value: Buffer.from("v") }],
      }),
    );
    expect(error.code).toBe(grpc.status.UNIMPLEMENTED);
    expect(error.details).toContain("metadata");
  });

  it("answers a method the service does not have with UNIMPLEMENTED", async () => {
    const error = expectError(await callRawUnary(client, "/zitadel.user.v2.UserService/NoSuchMethod", new Uint8Array()));
    expect(error.code, error.details).toBe(grpc.status.UNIMPLEMENTED);
  });

  it("answers a service the server does not have with UNIMPLEMENTED", async () => {
    const error = expectError(await callRawUnary(client, "/zitadel.user.v2.NoSuchService/VerifyPhone", new Uint8Array()));
    expect(error.code, error.details).toBe(grpc.status.UNIMPLEMENTED);
  });
});
