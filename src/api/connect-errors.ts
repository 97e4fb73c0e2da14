// Domain errors on the wire: ZITADEL's "<text> (<id>)" message and zitadel.v1.ErrorDetail, plus a
// google.rpc.ErrorInfo with a stable reason and metadata (for example attempts left), on every protocol.
import { Code, ConnectError } from "@connectrpc/connect";
import type { DomainError, ErrorKind } from "../domain/errors.js";
import { ErrorInfoSchema } from "../gen/google/rpc/error_details_pb.js";
import { ErrorDetailSchema } from "../gen/zitadel/v1/error_detail_pb.js";

export const errorDomain = "verifyd";

const codeOfKind: Record<ErrorKind, Code> = {
  InvalidArgument: Code.InvalidArgument,
  NotFound: Code.NotFound,
  AlreadyExists: Code.AlreadyExists,
  FailedPrecondition: Code.FailedPrecondition,
  ResourceExhausted: Code.ResourceExhausted,
  Aborted: Code.Aborted,
  Unavailable: Code.Unavailable,
  Unauthenticated: Code.Unauthenticated,
  PermissionDenied: Code.PermissionDenied,
};

export function toConnectError(error: DomainError): ConnectError {
  return new ConnectError(error.message, codeOfKind[error.kind], undefined, [
    { desc: ErrorDetailSchema, value: { id: error.id, message: error.text } },
    { desc: ErrorInfoSchema, value: { reason: error.reason, domain: errorDomain, metadata: { ...error.metadata } } },
  ]);
}
