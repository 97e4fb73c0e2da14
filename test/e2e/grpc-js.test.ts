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
import { type GrpcResult, bearerInterceptor, callRawUnary, callUnary, grpc, loadUserServiceClient } from "../helpers/grpc-js-client.js";
import { type TestServer, startTestServer } from "../helpers/test-server.js";
import { expectAdvancingSequences } from "../helpers/events.js";

let server: TestServer;
let client: grpc.Client;

beforeAll(async () => {
  // Loads the contract first: without third_party/ this fails with a message saying to run `npm run protos:deps`.
  const UserServiceClient = loadUserServiceClient();
  server = await startTestServer();
  client = new UserServiceClient(new URL(server.url).host, grpc.credentials.createInsecure(), {
    interceptors: [bearerInterceptor(server.adminToken)],
  });
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

let unique = 0;
/** A valid Swiss mobile number (+4179 and 7 digits) no other test in this file uses. */
function uniqueMobile(): string {
  unique++;
  return `+4179${String(2_000_000 + unique).slice(-7)}`;
}
function uniqueEmail(tag: string): string {
  unique++;
  return `${tag}-${unique}@grpc-js.example.com`;
}

interface HumanPhone {
  phone?: string;
  isVerified?: boolean;
  pendingPhone?: string;
}
interface HumanEmail {
  email?: string;
  isVerified?: boolean;
  pendingEmail?: string;
}
interface GetUserByIDResponse {
  details?: Details;
  user?: { userId?: string; human?: { phone?: HumanPhone | null; email?: HumanEmail | null } };
}

async function human(userId: string) {
  const body = expectOk(await callUnary<GetUserByIDResponse>(client, "GetUserByID", { userId }));
  expect(body.user?.userId).toBe(userId);
  const found = body.user?.human;
  if (!found) throw new Error(`GetUserByID ${userId} answered no human user: ${JSON.stringify(body)}`);
  return found;
}

/** The ErrorDetail id and ErrorInfo reason a failed call carries in grpc-status-details-bin. */
function errorIds(error: grpc.ServiceError) {
  const status = statusDetails(error);
  const [detail] = unpack(status, ErrorDetailSchema) as { id?: string }[];
  const [info] = unpack(status, ErrorInfoSchema) as { reason?: string }[];
  return { code: status.code, id: detail?.id, reason: info?.reason };
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

  it("runs all ten RPCs: add, verify, change, resend and remove the phone; verify, change, resend and send the email", async () => {
    const email = uniqueEmail("flow");
    const phone = uniqueMobile();
    const sequences: bigint[] = [];
    const step = <T extends { details?: Details }>(response: T): T => {
      sequences.push(BigInt(response.details?.sequence ?? "0"));
      return response;
    };

    // AddHumanUser with both codes returned.
    const added = step(
      expectOk(
        await callUnary<{ userId: string; details?: Details; emailCode?: string; phoneCode?: string }>(client, "AddHumanUser", {
          profile,
          email: { email, returnCode: {} },
          phone: { phone, returnCode: {} },
        }),
      ),
    );
    const { userId } = added;
    expect(added.emailCode).toMatch(/^\d{6}$/);
    expect(added.phoneCode).toMatch(/^\d{6}$/);
    expect(await human(userId)).toMatchObject({ email: { email }, phone: { phone } });

    // VerifyPhone with AddHumanUser's phone code.
    step(expectOk(await callUnary<{ details?: Details }>(client, "VerifyPhone", { userId, verificationCode: added.phoneCode })));
    expect((await human(userId)).phone).toMatchObject({ phone, isVerified: true });

    // SetPhone to a new number: the verified number stays, the new one is pending.
    const newPhone = uniqueMobile();
    const set = step(
      expectOk(
        await callUnary<{ details?: Details; verificationCode?: string }>(client, "SetPhone", {
          userId,
          phone: newPhone,
          returnCode: {},
        }),
      ),
    );
    expect(set.verificationCode).toMatch(/^\d{6}$/);
    expect((await human(userId)).phone).toEqual({ phone, isVerified: true, pendingPhone: newPhone });

    // ResendPhoneCode: SetPhone's code is now refused, the fresh one verifies the new number.
    const resent = step(
      expectOk(
        await callUnary<{ details?: Details; verificationCode?: string }>(client, "ResendPhoneCode", { userId, returnCode: {} }),
      ),
    );
    expect(resent.verificationCode).toMatch(/^\d{6}$/);
    if (resent.verificationCode !== set.verificationCode) {
      const stale = expectError(
        await callUnary(client, "VerifyPhone", { userId, verificationCode: set.verificationCode }),
      );
      expect(stale.code).toBe(grpc.status.INVALID_ARGUMENT);
      expect(stale.details).toBe("Code is invalid (COMMAND-eis9R)");
      expect(errorIds(stale)).toMatchObject({ code: 3, id: "COMMAND-eis9R", reason: "INVALID_VERIFICATION_CODE" });
    }
    step(
      expectOk(
        await callUnary<{ details?: Details }>(client, "VerifyPhone", { userId, verificationCode: resent.verificationCode }),
      ),
    );
    expect((await human(userId)).phone).toEqual({ phone: newPhone, isVerified: true });

    // RemovePhone: no phone left.
    step(expectOk(await callUnary<{ details?: Details }>(client, "RemovePhone", { userId })));
    // An empty HumanPhone, as ZITADEL answers for a user without a phone.
    expect((await human(userId)).phone).toEqual({});

    // VerifyEmail with AddHumanUser's email code, still valid after all the phone calls.
    step(expectOk(await callUnary<{ details?: Details }>(client, "VerifyEmail", { userId, verificationCode: added.emailCode })));
    expect((await human(userId)).email).toEqual({ email, isVerified: true });

    // SetEmail, ResendEmailCode, SendEmailCode: each returns a fresh code; only the latest verifies.
    const newEmail = uniqueEmail("flow-new");
    const setEmail = step(
      expectOk(
        await callUnary<{ details?: Details; verificationCode?: string }>(client, "SetEmail", {
          userId,
          email: newEmail,
          returnCode: {},
        }),
      ),
    );
    expect(setEmail.verificationCode).toMatch(/^\d{6}$/);
    expect((await human(userId)).email).toEqual({ email, isVerified: true, pendingEmail: newEmail });
    const resentEmail = step(
      expectOk(
        await callUnary<{ details?: Details; verificationCode?: string }>(client, "ResendEmailCode", { userId, returnCode: {} }),
      ),
    );
    expect(resentEmail.verificationCode).toMatch(/^\d{6}$/);
    const sentEmail = step(
      expectOk(
        await callUnary<{ details?: Details; verificationCode?: string }>(client, "SendEmailCode", { userId, returnCode: {} }),
      ),
    );
    expect(sentEmail.verificationCode).toMatch(/^\d{6}$/);
    step(
      expectOk(
        await callUnary<{ details?: Details }>(client, "VerifyEmail", { userId, verificationCode: sentEmail.verificationCode }),
      ),
    );
    const final = await human(userId);
    expect(final.email).toEqual({ email: newEmail, isVerified: true });
    expect(final.phone).toEqual({});

    expectAdvancingSequences(sequences, 11);
  });

  it("answers RemovePhone on a user without a phone with FAILED_PRECONDITION and ErrorDetail COMMAND-ieJ2e", async () => {
    const { userId } = expectOk(
      await callUnary<{ userId: string }>(client, "AddHumanUser", {
        profile,
        email: { email: uniqueEmail("no-phone"), returnCode: {} },
      }),
    );
    const error = expectError(await callUnary(client, "RemovePhone", { userId }));
    expect(error).toBeInstanceOf(Error);
    expect(error.code).toBe(grpc.status.FAILED_PRECONDITION);
    expect(error.code).toBe(9);
    expect(error.details).toBe("Phone not found (COMMAND-ieJ2e)");
    expect(errorIds(error)).toEqual({ code: 9, id: "COMMAND-ieJ2e", reason: "CONTACT_NOT_FOUND" });
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
    // grpc-js decodes grpc-message with decodeURI, which leaves %3A and %3B: sent as gRPC's spec says (printable ASCII
    // as it is), the message reads as it was written.
    expect(error.details).toBe("invalid VerifyPhoneRequest: verification_code: must be at most 20 characters");
    const [badRequest] = unpack(statusDetails(error), BadRequestSchema);
    expect(badRequest).toMatchObject({ fieldViolations: [expect.objectContaining({ field: "verification_code" })] });
  });

  it("answers a call without a valid token with UNAUTHENTICATED, its message as written", async () => {
    const stranger = new (loadUserServiceClient())(new URL(server.url).host, grpc.credentials.createInsecure(), {
      interceptors: [bearerInterceptor("not-a-token")],
    });
    try {
      const error = expectError(await callUnary(stranger, "GetUserByID", { userId: "1" }));
      expect(error.code).toBe(grpc.status.UNAUTHENTICATED);
      expect(error.details).toBe("Not authenticated; send Authorization: Bearer <token> (AUTH-7fs1e)");
    } finally {
      stranger.close();
    }
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
