// A ConnectError as a REST response: a google.rpc.Status JSON body with grpc-gateway's HTTP status, which is what
// ZITADEL's REST API (grpc-gateway v2) answers.
import { type Registry, createRegistry, create, toJsonString } from "@bufbuild/protobuf";
import { anyPack } from "@bufbuild/protobuf/wkt";
import { file_buf_validate_validate } from "@bufbuild/protovalidate/gen/buf/validate/validate_pb.js";
import { Code, type ConnectError } from "@connectrpc/connect";
import { file_google_rpc_error_details } from "../../gen/google/rpc/error_details_pb.js";
import { type Status, StatusSchema } from "../../gen/google/rpc/status_pb.js";
import { file_zitadel_v1_error_detail } from "../../gen/zitadel/v1/error_detail_pb.js";
import type { AnswerHeaders } from "../answer-headers.js";
import { keptForFrozen } from "../kept-for-frozen.js";

/** The error detail types a REST error body can carry: google.rpc.*, zitadel.v1.ErrorDetail, buf.validate.*. */
export const errorDetailRegistry: Registry = createRegistry(
  file_google_rpc_error_details,
  file_zitadel_v1_error_detail,
  file_buf_validate_validate,
);

// grpc-gateway runtime.HTTPStatusFromCode; FailedPrecondition is 400 there on purpose, not 412.
const httpStatusByCode: Record<Code, number> = {
  [Code.Canceled]: 499,
  [Code.Unknown]: 500,
  [Code.InvalidArgument]: 400,
  [Code.DeadlineExceeded]: 504,
  [Code.NotFound]: 404,
  [Code.AlreadyExists]: 409,
  [Code.PermissionDenied]: 403,
  [Code.ResourceExhausted]: 429,
  [Code.FailedPrecondition]: 400,
  [Code.Aborted]: 409,
  [Code.OutOfRange]: 400,
  [Code.Unimplemented]: 501,
  [Code.Internal]: 500,
  [Code.Unavailable]: 503,
  [Code.DataLoss]: 500,
  [Code.Unauthenticated]: 401,
};

export function httpStatusFromCode(code: Code): number {
  return httpStatusByCode[code] ?? 500;
}

/** Details the registry does not know are left out: they could not be written as JSON. */
export function statusFromError(error: ConnectError, registry: Registry = errorDetailRegistry): Status {
  const details = error.findDetails(registry).flatMap((detail) => {
    const desc = registry.getMessage(detail.$typeName);
    return desc ? [anyPack(desc, detail)] : [];
  });
  return create(StatusSchema, { code: error.code, message: error.rawMessage, details });
}

export interface RestResponse {
  status: number;
  headers: AnswerHeaders;
  body: string;
}

// Go's protojson cannot fail here either; this mirrors grpc-gateway's last-resort body.
const unmarshallableStatus = JSON.stringify({ code: Code.Internal, message: "failed to marshal error message" });

function statusBody(error: ConnectError, registry: Registry): string {
  try {
    return toJsonString(StatusSchema, statusFromError(error, registry), { registry });
  } catch {
    return unmarshallableStatus;
  }
}

/** With the default registry, a refusal's body is kept for its repeats, as its gRPC status is. */
const defaultStatusBody = keptForFrozen((error) => statusBody(error, errorDetailRegistry));

/**
 * `httpStatus` overrides the table for errors the gateway itself raises, such as 405 and 413.
 * The error's metadata is not included; the caller decides which of it to forward.
 */
export function restErrorResponse(
  error: ConnectError,
  options: { registry?: Registry; httpStatus?: number } = {},
): RestResponse {
  const headers: AnswerHeaders = { "content-type": "application/json" };
  // As grpc-gateway's DefaultHTTPErrorHandler does, when the message can be a header value at all.
  if (error.code === Code.Unauthenticated && /^[\x20-\x7e]*$/.test(error.rawMessage)) {
    headers["www-authenticate"] = error.rawMessage;
  }
  const registry = options.registry ?? errorDetailRegistry;
  const body = registry === errorDetailRegistry ? defaultStatusBody(error) : statusBody(error, registry);
  return { status: options.httpStatus ?? httpStatusFromCode(error.code), headers, body };
}
