// A failed call's status as gRPC and gRPC-Web trailers: the fields connect-es's setTrailerStatus sets, written into
// the record Node sends instead of through a fetch API Headers object. On a wrong code's VerifyPhone the Headers
// round trip (WebIDL checks on every set, then a copy back into a record) and protobuf-es's JavaScript base64 were
// about 2.5% of the call's CPU in `npm run bench -- --profile`.
import { create, toBinary } from "@bufbuild/protobuf";
import { anyPack } from "@bufbuild/protobuf/wkt";
import type { ConnectError } from "@connectrpc/connect";
import { headerGrpcMessage, headerGrpcStatus, headerStatusDetailsBin } from "@connectrpc/connect/protocol-grpc";
import { StatusSchema } from "../gen/google/rpc/status_pb.js";

/** `trailer` (the call's own) with the error's metadata and status added, as connect-es adds them. */
export function withErrorStatus(trailer: Record<string, string>, error: ConnectError): Record<string, string> {
  // Metadata first, so that it cannot override the status fields; a repeated name is joined, as Headers joins it.
  error.metadata.forEach((value, name) => {
    trailer[name] = name in trailer ? `${trailer[name]}, ${value}` : value;
  });
  trailer[headerGrpcStatus] = String(error.code);
  trailer[headerGrpcMessage] = encodeURIComponent(error.rawMessage);
  if (error.details.length > 0) trailer[headerStatusDetailsBin] = statusDetailsBin(error);
  return trailer;
}

// Refusals repeat: every wrong code for a user with three attempts left has the same status and details. Encoding
// one (the details packed in Anys, then the Status, whose bytes outgrow the writer's first buffer) took about 5 µs,
// keying it about 1.4 µs (README, performance, step 29). Bounded, in entries and in each entry's size (a message
// may quote what a client sent): a table that fills up starts over, and a long status is not kept.
const encodedStatuses = new Map<string, string>();
const maxEncodedStatuses = 1024;
const maxKeyLength = 1024;

/** The google.rpc.Status with the error's details, in unpadded standard base64 as gRPC's `-bin` headers take it. */
function statusDetailsBin(error: ConnectError): string {
  const key = statusKeyOf(error);
  const known = key === undefined ? undefined : encodedStatuses.get(key);
  if (known !== undefined) return known;
  const encoded = encodedStatus(error);
  if (key === undefined) return encoded;
  if (encodedStatuses.size >= maxEncodedStatuses) encodedStatuses.clear();
  encodedStatuses.set(key, encoded);
  return encoded;
}

/**
 * Equal for two errors exactly when their encoded statuses are (each detail's type decides how its fields encode);
 * undefined for a status not worth keeping. A wait (a RetryInfo, sent with a Retry-After) makes each refusal's status
 * unique, JSON cannot hold an int64 given as a bigint, and a long one would make the table large.
 */
function statusKeyOf({ code, rawMessage, details, metadata }: ConnectError): string | undefined {
  if (metadata.has("retry-after")) return undefined;
  const typed: unknown[] = [];
  for (const detail of details) {
    // Bytes encoded elsewhere: rare, and of any size.
    if (!("desc" in detail)) return undefined;
    typed.push([detail.desc.typeName, detail.value]);
  }
  let key: string;
  try {
    key = JSON.stringify([code, rawMessage, typed]);
  } catch {
    return undefined;
  }
  return key.length <= maxKeyLength ? key : undefined;
}

function encodedStatus(error: ConnectError): string {
  const details = error.details.map((detail) =>
    "desc" in detail
      ? anyPack(detail.desc, create(detail.desc, detail.value))
      : { $typeName: "google.protobuf.Any" as const, typeUrl: `type.googleapis.com/${detail.type}`, value: detail.value },
  );
  const bytes = toBinary(StatusSchema, create(StatusSchema, { code: error.code, message: error.rawMessage, details }));
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64").replace(/=+$/, "");
}
