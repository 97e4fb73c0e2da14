// One way to call any UserService RPC over each protocol, so that a test can assert the same behaviour on all of
// them: Connect (JSON and binary), gRPC and gRPC-Web through connect-node's transports, and REST through fetch. With a
// token, every call carries `authorization: Bearer <token>`.
import { type JsonObject, type JsonValue, fromJson, toJson } from "@bufbuild/protobuf";
import { ConnectError, type Interceptor, type Transport, createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import { ErrorInfoSchema } from "../../src/gen/google/rpc/error_details_pb.js";
import { UserService } from "../../src/gen/zitadel/user/v2/user_service_pb.js";
import { ErrorDetailSchema } from "../../src/gen/zitadel/v1/error_detail_pb.js";

export type ProtocolName = "connect-json" | "connect-binary" | "connect-h2" | "grpc" | "grpc-web" | "rest";
export const allProtocols: ProtocolName[] = ["connect-json", "connect-binary", "connect-h2", "grpc", "grpc-web", "rest"];

export type MethodName = keyof typeof restRoutes;

/** ZITADEL's REST paths, written out here so the tests check the contract, not the gateway against itself. */
export const restRoutes = {
  addHumanUser: ["POST", "/v2/users/human"],
  getUserByID: ["GET", "/v2/users/{userId}"],
  setEmail: ["POST", "/v2/users/{userId}/email"],
  resendEmailCode: ["POST", "/v2/users/{userId}/email/resend"],
  sendEmailCode: ["POST", "/v2/users/{userId}/email/send"],
  verifyEmail: ["POST", "/v2/users/{userId}/email/verify"],
  setPhone: ["POST", "/v2/users/{userId}/phone"],
  removePhone: ["DELETE", "/v2/users/{userId}/phone"],
  resendPhoneCode: ["POST", "/v2/users/{userId}/phone/resend"],
  verifyPhone: ["POST", "/v2/users/{userId}/phone/verify"],
} as const;

export interface CallFailure {
  code: number;
  message: string;
  errorDetail?: { id: string; message: string };
  errorInfo?: { reason: string; domain: string; metadata: Record<string, string> };
  httpStatus?: number;
}

export type CallResult = { ok: true; body: JsonObject } | ({ ok: false } & CallFailure);

export interface ProtocolClient {
  protocol: ProtocolName;
  call(method: MethodName, request: JsonObject): Promise<CallResult>;
}

const transports = new Map<string, Transport>();

/**
 * One transport per protocol and server, as a real client keeps one: a new HTTP/2 transport per call would open a
 * connection per call that stays open until the server's idle timeout, and the server caps connections per address.
 */
function transportFor(protocol: Exclude<ProtocolName, "rest">, baseUrl: string, token: string | undefined): Transport {
  const key = `${protocol} ${baseUrl} ${token ?? ""}`;
  const known = transports.get(key);
  if (known) return known;
  const interceptors = token === undefined ? [] : [bearer(token)];
  const transport = {
    "connect-json": () => createConnectTransport({ baseUrl, httpVersion: "1.1", useBinaryFormat: false, interceptors }),
    "connect-binary": () => createConnectTransport({ baseUrl, httpVersion: "1.1", useBinaryFormat: true, interceptors }),
    "connect-h2": () => createConnectTransport({ baseUrl, httpVersion: "2", interceptors }),
    grpc: () => createGrpcTransport({ baseUrl, interceptors }),
    "grpc-web": () => createGrpcWebTransport({ baseUrl, httpVersion: "1.1", interceptors }),
  }[protocol]();
  transports.set(key, transport);
  return transport;
}

/** Sends `authorization: Bearer <token>` with every call. */
export function bearer(token: string): Interceptor {
  return (next) => (req) => {
    req.header.set("authorization", `Bearer ${token}`);
    return next(req);
  };
}

export function protocolClient(protocol: ProtocolName, baseUrl: string, token?: string): ProtocolClient {
  if (protocol === "rest") return restClient(baseUrl, token);
  const client = createClient(UserService, transportFor(protocol, baseUrl, token));
  return {
    protocol,
    async call(method, request) {
      const desc = UserService.method[method];
      try {
        const call = client[method] as (req: unknown) => Promise<unknown>;
        const response = await call(fromJson(desc.input, request));
        return { ok: true, body: toJson(desc.output, response as never) as JsonObject };
      } catch (error) {
        return { ok: false, ...fromConnectError(ConnectError.from(error)) };
      }
    },
  };
}

function fromConnectError(error: ConnectError): CallFailure {
  const [detail] = error.findDetails(ErrorDetailSchema);
  const [info] = error.findDetails(ErrorInfoSchema);
  return {
    code: error.code,
    message: error.rawMessage,
    ...(detail ? { errorDetail: { id: detail.id, message: detail.message } } : {}),
    ...(info ? { errorInfo: { reason: info.reason, domain: info.domain, metadata: { ...info.metadata } } } : {}),
  };
}

function restClient(baseUrl: string, token: string | undefined): ProtocolClient {
  return {
    protocol: "rest",
    async call(method, request) {
      const [httpMethod, template] = restRoutes[method];
      const body: Record<string, JsonValue> = { ...request };
      const path = template.replace(/\{(\w+)\}/g, (_match, name: string) => {
        const value = String(body[name] ?? "");
        delete body[name];
        return encodeURIComponent(value);
      });
      const response = await fetch(`${baseUrl}${path}`, {
        method: httpMethod,
        headers: {
          ...(httpMethod === "GET" ? {} : { "content-type": "application/json" }),
          ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
        },
        ...(httpMethod === "GET" ? {} : { body: JSON.stringify(body) }),
      });
      const json = (await response.json()) as JsonObject;
      if (response.ok) return { ok: true, body: json };
      return { ok: false, httpStatus: response.status, ...fromStatusJson(json) };
    },
  };
}

function fromStatusJson(status: JsonObject): CallFailure {
  const details = (status.details ?? []) as JsonObject[];
  const detail = details.find((d) => d["@type"] === "type.googleapis.com/zitadel.v1.ErrorDetail");
  const info = details.find((d) => d["@type"] === "type.googleapis.com/google.rpc.ErrorInfo");
  return {
    code: status.code as number,
    message: status.message as string,
    ...(detail ? { errorDetail: { id: detail.id as string, message: detail.message as string } } : {}),
    ...(info
      ? {
          errorInfo: {
            reason: info.reason as string,
            domain: info.domain as string,
            metadata: (info.metadata ?? {}) as Record<string, string>,
          },
        }
      : {}),
  };
}


export function expectOk(result: CallResult): JsonObject {
  if (!result.ok) {
    throw new Error(`expected success, got ${result.code} ${result.message} ${JSON.stringify(result.errorInfo ?? {})}`);
  }
  return result.body;
}

export function expectFailure(result: CallResult): { ok: false } & CallFailure {
  if (result.ok) throw new Error(`expected a failure, got ${JSON.stringify(result.body)}`);
  return result;
}
