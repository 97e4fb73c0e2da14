import { create, createRegistry, toBinary } from "@bufbuild/protobuf";
import { ViolationsSchema } from "@bufbuild/protovalidate/gen/buf/validate/validate_pb.js";
import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { ErrorInfoSchema } from "../../src/gen/google/rpc/error_details_pb.js";
import { ErrorDetailSchema } from "../../src/gen/zitadel/v1/error_detail_pb.js";
import { httpStatusFromCode, restErrorResponse } from "../../src/transport/rest/status-json.js";

const errorInfo = { desc: ErrorInfoSchema, value: { reason: "CODE_EXPIRED", domain: "verifyd" } };
const bodyOf = (error: ConnectError, options?: Parameters<typeof restErrorResponse>[1]) =>
  JSON.parse(restErrorResponse(error, options).body);

describe("httpStatusFromCode", () => {
  it("follows grpc-gateway's table", () => {
    const table = Object.fromEntries(
      Object.entries(Code)
        .filter(([, code]) => typeof code === "number")
        .map(([name, code]) => [name, httpStatusFromCode(code as Code)]),
    );
    expect(table).toEqual({
      Canceled: 499,
      Unknown: 500,
      InvalidArgument: 400,
      DeadlineExceeded: 504,
      NotFound: 404,
      AlreadyExists: 409,
      PermissionDenied: 403,
      ResourceExhausted: 429,
      FailedPrecondition: 400,
      Aborted: 409,
      OutOfRange: 400,
      Unimplemented: 501,
      Internal: 500,
      Unavailable: 503,
      DataLoss: 500,
      Unauthenticated: 401,
    });
  });
});

describe("restErrorResponse", () => {
  it("writes a google.rpc.Status with the raw message and the table's HTTP status", () => {
    const response = restErrorResponse(new ConnectError("Code is expired", Code.FailedPrecondition, {}, [errorInfo]));
    expect(response.status).toBe(400);
    expect(response.headers["content-type"]).toBe("application/json");
    expect(JSON.parse(response.body)).toEqual({
      code: 9,
      message: "Code is expired",
      details: [{ "@type": "type.googleapis.com/google.rpc.ErrorInfo", reason: "CODE_EXPIRED", domain: "verifyd" }],
    });
  });

  it("leaves details out when there are none, as ZITADEL does", () => {
    expect(bodyOf(new ConnectError("invalid VerifyPhoneRequest.VerificationCode", Code.InvalidArgument))).toEqual({
      code: 3,
      message: "invalid VerifyPhoneRequest.VerificationCode",
    });
  });

  it("reads details received off the wire as well as outgoing ones", () => {
    const error = new ConnectError("User could not be found (COMMAND-4f8sg)", Code.NotFound);
    const detail = create(ErrorDetailSchema, { id: "COMMAND-4f8sg", message: "User could not be found" });
    error.details.push({ type: ErrorDetailSchema.typeName, value: toBinary(ErrorDetailSchema, detail) });
    expect(bodyOf(error).details).toEqual([
      { "@type": "type.googleapis.com/zitadel.v1.ErrorDetail", id: "COMMAND-4f8sg", message: "User could not be found" },
    ]);
  });

  it("writes protovalidate violations", () => {
    const violations = { violations: [{ ruleId: "string.min_len", message: "value is empty" }] };
    const error = new ConnectError("validation failed", Code.InvalidArgument, {}, [
      { desc: ViolationsSchema, value: violations },
    ]);
    expect(bodyOf(error).details).toEqual([
      { "@type": "type.googleapis.com/buf.validate.Violations", ...violations },
    ]);
  });

  it("leaves out details the registry does not know", () => {
    const error = new ConnectError("x", Code.Internal, {}, [errorInfo]);
    error.details.push({ type: "acme.v1.Secret", value: new Uint8Array([8, 1]) });
    expect(bodyOf(error).details).toEqual([expect.objectContaining({ reason: "CODE_EXPIRED" })]);
    expect(bodyOf(error, { registry: createRegistry(ErrorDetailSchema) }).details).toBeUndefined();
  });

  it("lets the caller override the HTTP status", () => {
    const response = restErrorResponse(new ConnectError("Method Not Allowed", Code.Unimplemented), { httpStatus: 405 });
    expect(response.status).toBe(405);
    expect(JSON.parse(response.body)).toEqual({ code: 12, message: "Method Not Allowed" });
  });

  it("challenges with WWW-Authenticate on Unauthenticated, as grpc-gateway does", () => {
    const response = restErrorResponse(new ConnectError("Errors.Token.Invalid (AUTH-7fs1e)", Code.Unauthenticated));
    expect(response.status).toBe(401);
    expect(response.headers["www-authenticate"]).toBe("Errors.Token.Invalid (AUTH-7fs1e)");
  });
});
