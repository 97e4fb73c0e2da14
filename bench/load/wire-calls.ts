// Each protocol's call on the wire, built by hand: the path, headers and body of a VerifyPhone or AddHumanUser request
// for one user index, and how the answer says whether the call succeeded.
import { newUserPhone, seededUser, wrongCode } from "../bench-users.js";
import type { Protocol, Rpc, Workload } from "./load-job.js";
import { messageField, stringField } from "./protobuf-wire.js";

export interface WireCall {
  path: string;
  headers: Record<string, string>;
  body: Buffer;
}

export interface WireResponse {
  status: number;
  /** Response headers and, for HTTP/2, trailers; names in lower case. */
  headers: Record<string, string | string[] | undefined>;
  trailers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

const service = "/zitadel.user.v2.UserService";
const methodOf: Record<Rpc, string> = { "verify-phone": "VerifyPhone", "add-human-user": "AddHumanUser" };

const protobufHeaders: Record<Exclude<Protocol, "rest">, Record<string, string>> = {
  grpc: { "content-type": "application/grpc", te: "trailers" },
  "grpc-web": { "content-type": "application/grpc-web+proto", "x-grpc-web": "1" },
  connect: { "content-type": "application/proto", "connect-protocol-version": "1" },
};

export function wireCall(protocol: Protocol, rpc: Rpc, workload: Workload, index: number): WireCall {
  if (rpc === "verify-phone") {
    const { userId, code } = seededUser(index);
    const verificationCode = workload === "wrong-code" ? wrongCode(code) : code;
    if (protocol === "rest") return restCall(`/v2/users/${userId}/phone/verify`, { verificationCode });
    return protobufCall(protocol, rpc, Buffer.concat([stringField(1, userId), stringField(2, verificationCode)]));
  }
  const profile = { givenName: "Bench", familyName: `New ${index}` };
  const phone = newUserPhone(index);
  if (protocol === "rest") return restCall("/v2/users/human", { profile, phone: { phone, sendCode: {} } });
  // AddHumanUserRequest: profile = 4 {given_name = 1, family_name = 2}, phone = 10 {phone = 1, send_code = 2 {}}.
  return protobufCall(
    protocol,
    rpc,
    Buffer.concat([
      messageField(4, stringField(1, profile.givenName), stringField(2, profile.familyName)),
      messageField(10, stringField(1, phone), messageField(2)),
    ]),
  );
}

function restCall(path: string, body: object): WireCall {
  return { path, headers: { "content-type": "application/json" }, body: Buffer.from(JSON.stringify(body)) };
}

function protobufCall(protocol: Exclude<Protocol, "rest">, rpc: Rpc, message: Buffer): WireCall {
  // gRPC and gRPC-Web frame the message: a flag byte (0: not compressed) and its length, big-endian.
  const body = protocol === "connect" ? message : Buffer.concat([Buffer.from([0, 0, 0, 0, 0]), message]);
  if (protocol !== "connect") body.writeUInt32BE(message.length, 1);
  return { path: `${service}/${methodOf[rpc]}`, headers: protobufHeaders[protocol], body };
}

// Connect and REST name errors differently; the outcome is always gRPC's number.
const connectCodes = [
  "ok", "canceled", "unknown", "invalid_argument", "deadline_exceeded", "not_found", "already_exists", "permission_denied",
  "resource_exhausted", "failed_precondition", "aborted", "out_of_range", "unimplemented", "internal", "unavailable",
  "data_loss", "unauthenticated",
];

/** "ok", or "code N" with the gRPC status code, or "http N" when the answer is not the protocol's. */
export function outcomeOf(protocol: Protocol, response: WireResponse): string {
  if (protocol === "grpc") return grpcOutcome(response.trailers["grpc-status"] ?? response.headers["grpc-status"], response.status);
  if (protocol === "grpc-web") return grpcOutcome(response.headers["grpc-status"] ?? grpcWebTrailerStatus(response.body), response.status);
  if (response.status === 200) return "ok";
  try {
    const { code } = JSON.parse(response.body.toString("utf8")) as { code?: unknown };
    const number = protocol === "connect" ? connectCodes.indexOf(String(code)) : Number(code);
    return number > 0 ? `code ${number}` : `http ${response.status}`;
  } catch {
    return `http ${response.status}`;
  }
}

function grpcOutcome(status: string | string[] | undefined, httpStatus: number): string {
  if (status === undefined) return `http ${httpStatus}`;
  return status === "0" ? "ok" : `code ${String(status)}`;
}

/** The status in a gRPC-Web body's trailer frame (flag 0x80), whose payload is header lines. */
function grpcWebTrailerStatus(body: Buffer): string | undefined {
  for (let offset = 0; offset + 5 <= body.length; ) {
    const length = body.readUInt32BE(offset + 1);
    if ((body[offset] as number) & 0x80) {
      return /grpc-status:\s*(\d+)/i.exec(body.subarray(offset + 5, offset + 5 + length).toString("latin1"))?.[1];
    }
    offset += 5 + length;
  }
  return undefined;
}
