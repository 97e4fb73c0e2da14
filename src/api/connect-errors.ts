// Domain errors on the wire: ZITADEL's "<text> (<id>)" message and zitadel.v1.ErrorDetail, plus a
// google.rpc.ErrorInfo with a stable reason and metadata (for example attempts left), on every protocol. An error
// that passes with time also carries a google.rpc.RetryInfo with the exact wait, and a Retry-After header (in whole
// seconds, rounded up) that REST and Connect clients see as a response header and gRPC clients as a trailer.
import { create } from "@bufbuild/protobuf";
import { type Duration, DurationSchema } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import { type DomainError, type ErrorKind, withoutStackTrace } from "../domain/errors.js";
import { ErrorInfoSchema, RetryInfoSchema } from "../gen/google/rpc/error_details_pb.js";
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

// Refusals repeat: every wrong code for a user with three attempts left is the same answer. One ConnectError per
// distinct refusal saves building it (an Error, its details) for each repeat, and lets the transport keep what it
// encodes of it (transport/kept-for-frozen.ts). Calls can share one because it cannot change: it is frozen with its
// details, so that a write meant for one call's answer throws instead of reaching the others' (its metadata, a
// Headers object that freezing cannot protect, is empty: only a refusal with a wait has headers, and that one is not
// shared, since the wait differs on every repeat). Bounded, in entries and in each key's size (a refusal's metadata
// may quote what a client sent): a table that fills up starts over, and a long key is not kept.
const sharedErrors = new Map<string, ConnectError>();
const maxSharedErrors = 1024;
const maxKeyLength = 1024;

/** Without a stack trace, as the domain error it reports (see DomainError); one object for the repeats of a refusal. */
export function toConnectError(error: DomainError): ConnectError {
  if (error.retryAfterMs !== undefined) return withoutStackTrace(() => wireErrorOf(error));
  const key = JSON.stringify([error.kind, error.id, error.text, error.reason, error.metadata]);
  const known = sharedErrors.get(key);
  if (known) return known;
  const built = withoutStackTrace(() => wireErrorOf(error));
  if (key.length > maxKeyLength) return built;
  if (sharedErrors.size >= maxSharedErrors) sharedErrors.clear();
  sharedErrors.set(key, frozen(built));
  return built;
}

/** The error and its details made read-only; not the details' descriptors, which protobuf-es shares and owns. */
function frozen(error: ConnectError): ConnectError {
  for (const detail of error.details) {
    if ("desc" in detail) deepFreeze(detail.value);
    Object.freeze(detail);
  }
  Object.freeze(error.details);
  return Object.freeze(error);
}

function deepFreeze(value: unknown): void {
  if (typeof value !== "object" || value === null || Object.isFrozen(value)) return;
  for (const inner of Object.values(value)) deepFreeze(inner);
  Object.freeze(value);
}

function wireErrorOf(error: DomainError): ConnectError {
  const details: ConstructorParameters<typeof ConnectError>[3] = [
    { desc: ErrorDetailSchema, value: { id: error.id, message: error.text } },
    { desc: ErrorInfoSchema, value: { reason: error.reason, domain: errorDomain, metadata: { ...error.metadata } } },
  ];
  if (error.retryAfterMs === undefined) return new ConnectError(error.message, codeOfKind[error.kind], undefined, details);
  details.push({ desc: RetryInfoSchema, value: { retryDelay: toDuration(error.retryAfterMs) } });
  const headers = { "retry-after": String(Math.max(1, Math.ceil(error.retryAfterMs / 1000))) };
  return new ConnectError(error.message, codeOfKind[error.kind], headers, details);
}

function toDuration(ms: number): Duration {
  const whole = Math.max(0, Math.ceil(ms));
  return create(DurationSchema, { seconds: BigInt(Math.floor(whole / 1000)), nanos: (whole % 1000) * 1_000_000 });
}

/** What a client gets for a fault of ours: no detail of it, but the request id its error line names. */
export function internalError(requestId: string): ConnectError {
  return new ConnectError(`Internal error; request id ${requestId}`, Code.Internal);
}
