// A failed call's status as gRPC and gRPC-Web trailers: the fields connect-es's setTrailerStatus sets, written into
// the record Node sends instead of through a fetch API Headers object. On a wrong code's VerifyPhone the Headers
// round trip (WebIDL checks on every set, then a copy back into a record) and protobuf-es's JavaScript base64 were
// about 2.5% of the call's CPU in `npm run bench -- --profile`.
import { create, toBinary } from "@bufbuild/protobuf";
import { anyPack } from "@bufbuild/protobuf/wkt";
import type { ConnectError } from "@connectrpc/connect";
import { headerGrpcMessage, headerGrpcStatus, headerStatusDetailsBin } from "@connectrpc/connect/protocol-grpc";
import { StatusSchema } from "../gen/google/rpc/status_pb.js";
import { keptForFrozen } from "./kept-for-frozen.js";

/** `trailer` (the call's own) with the error's metadata and status added, as connect-es adds them. */
export function withErrorStatus(trailer: Record<string, string>, error: ConnectError): Record<string, string> {
  // Metadata first, so that it cannot override the status fields; a repeated name is joined, as Headers joins it.
  error.metadata.forEach((value, name) => {
    trailer[name] = name in trailer ? `${trailer[name]}, ${value}` : value;
  });
  trailer[headerGrpcStatus] = String(error.code);
  trailer[headerGrpcMessage] = grpcMessageValue(error.rawMessage);
  if (error.details.length > 0) trailer[headerStatusDetailsBin] = statusDetailsBin(error);
  return trailer;
}

/**
 * A message as gRPC's wire format sends it: printable ASCII as it is, `%` and every other byte of its UTF-8 encoded as
 * `%XX`. connect-es encodes with encodeURIComponent, which also encodes `:` `;` `,` and the like; grpc-js decodes with
 * decodeURI, which leaves those encoded, so its users read `Not authenticated%3B send Authorization%3A …`.
 */
export function grpcMessageValue(message: string): string {
  return message.replace(loneSurrogate, "\uFFFD").replace(/[^\x20-\x24\x26-\x7e]+/g, encodeURIComponent);
}

/** Half of a UTF-16 pair without its other half (a client's own text quoted back): encodeURIComponent throws on it. */
const loneSurrogate = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/**
 * The google.rpc.Status with the error's details, in unpadded standard base64 as gRPC's `-bin` headers take it. Kept
 * for a refusal's repeats: encoding it (the details packed in Anys, then the Status, whose bytes outgrow the writer's
 * first buffer) took about 5 µs (README, performance, step 29).
 */
const statusDetailsBin = keptForFrozen(encodedStatus);

function encodedStatus(error: ConnectError): string {
  const details = error.details.map((detail) =>
    "desc" in detail
      ? anyPack(detail.desc, create(detail.desc, detail.value))
      : { $typeName: "google.protobuf.Any" as const, typeUrl: `type.googleapis.com/${detail.type}`, value: detail.value },
  );
  const bytes = toBinary(StatusSchema, create(StatusSchema, { code: error.code, message: error.rawMessage, details }));
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64").replace(/=+$/, "");
}
