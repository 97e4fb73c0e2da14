// One way to call any RPC of verifyd's services (UserService, OrganizationService, InternalPermissionService,
// VerificationSettingsService, SecurityLogService, ApplicationService) over each protocol, so that a test can assert
// the same behaviour on all of them: Connect (JSON and binary), gRPC and gRPC-Web through connect-node's transports,
// and REST through fetch. REST is ZITADEL's HTTP path where ZITADEL has one, and otherwise what a curl user does:
// POST the Connect path /<package>.<Service>/<Method> with JSON. With a token, every call carries
// `authorization: Bearer <token>`.
import { type DescMessage, type DescMethodUnary, type DescService, type JsonObject, type JsonValue, fromBinary, fromJson, toJson } from "@bufbuild/protobuf";
import { base64Decode } from "@bufbuild/protobuf/wire";
import type { Duration } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, type Interceptor, type Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import { BadRequestSchema, ErrorInfoSchema, RetryInfoSchema } from "../../src/gen/google/rpc/error_details_pb.js";
import { ApplicationService } from "../../src/gen/verifyd/apps/v1/application_service_pb.js";
import { SecurityLogService } from "../../src/gen/verifyd/security/v1/security_log_service_pb.js";
import { VerificationSettingsService } from "../../src/gen/verifyd/settings/v1/verification_settings_service_pb.js";
import { InternalPermissionService } from "../../src/gen/zitadel/internal_permission/v2beta/internal_permission_service_pb.js";
import { OrganizationService } from "../../src/gen/zitadel/org/v2/org_service_pb.js";
import { UserService } from "../../src/gen/zitadel/user/v2/user_service_pb.js";
import { ErrorDetailSchema } from "../../src/gen/zitadel/v1/error_detail_pb.js";

export type ProtocolName = "connect-json" | "connect-binary" | "connect-h2" | "grpc" | "grpc-web" | "rest";
export const allProtocols: ProtocolName[] = ["connect-json", "connect-binary", "connect-h2", "grpc", "grpc-web", "rest"];

/** The services a test can call, by the short names connect-es (and access-rules.ts) give them. */
export const services = {
  UserService,
  OrganizationService,
  InternalPermissionService,
  VerificationSettingsService,
  SecurityLogService,
  ApplicationService,
} as const;
export type ServiceName = keyof typeof services;
/** A method of a service, by its local name (camelCase, as on a connect-es client). */
export type MethodOf<S extends ServiceName> = keyof (typeof services)[S]["method"] & string;
/** A UserService method. */
export type MethodName = MethodOf<"UserService">;

type RestRoute =
  | readonly ["GET" | "POST" | "PUT" | "DELETE", string]
  /** No `body: "*"`: the fields the path does not take travel as query parameters. */
  | readonly ["GET" | "POST" | "DELETE", string, "no body"];

/**
 * ZITADEL's REST paths, written out here so the tests check the contract, not the gateway against itself. An RPC that
 * ZITADEL gives no REST path (CreateUser, the personal access token RPCs) is absent: its "REST" call is the Connect
 * path with JSON.
 */
export const restRoutes = {
  UserService: {
    addHumanUser: ["POST", "/v2/users/human"],
    getUserByID: ["GET", "/v2/users/{userId}", "no body"],
    setEmail: ["POST", "/v2/users/{userId}/email"],
    resendEmailCode: ["POST", "/v2/users/{userId}/email/resend"],
    sendEmailCode: ["POST", "/v2/users/{userId}/email/send"],
    verifyEmail: ["POST", "/v2/users/{userId}/email/verify"],
    setPhone: ["POST", "/v2/users/{userId}/phone"],
    removePhone: ["DELETE", "/v2/users/{userId}/phone"],
    resendPhoneCode: ["POST", "/v2/users/{userId}/phone/resend"],
    verifyPhone: ["POST", "/v2/users/{userId}/phone/verify"],
    listUsers: ["POST", "/v2/users"],
    deleteUser: ["DELETE", "/v2/users/{userId}", "no body"],
    deactivateUser: ["POST", "/v2/users/{userId}/deactivate"],
    reactivateUser: ["POST", "/v2/users/{userId}/reactivate"],
    lockUser: ["POST", "/v2/users/{userId}/lock"],
    unlockUser: ["POST", "/v2/users/{userId}/unlock"],
    setPassword: ["POST", "/v2/users/{userId}/password"],
  },
  OrganizationService: {
    addOrganization: ["POST", "/v2/organizations"],
    listOrganizations: ["POST", "/v2/organizations/_search"],
  },
  InternalPermissionService: {
    listAdministrators: ["POST", "/v2beta/administrators/search"],
    createAdministrator: ["POST", "/v2beta/administrators"],
    updateAdministrator: ["POST", "/v2beta/administrators/{userId}"],
    deleteAdministrator: ["DELETE", "/v2beta/administrators/{userId}", "no body"],
  },
  VerificationSettingsService: {
    getVerificationSettings: ["GET", "/verifyd/v1/organizations/{organizationId}/verification_settings", "no body"],
    setVerificationSettings: ["PUT", "/verifyd/v1/organizations/{organizationId}/verification_settings"],
  },
  SecurityLogService: {
    listSecurityEvents: ["POST", "/verifyd/v1/security_events/_search"],
  },
  ApplicationService: {
    createApplication: ["POST", "/verifyd/v1/organizations/{organizationId}/applications"],
    listApplications: ["GET", "/verifyd/v1/organizations/{organizationId}/applications", "no body"],
    deleteApplication: ["DELETE", "/verifyd/v1/applications/{appId}", "no body"],
  },
} as const satisfies { [S in ServiceName]: Partial<Record<MethodOf<S>, RestRoute>> };

export interface CallFailure {
  code: number;
  message: string;
  errorDetail?: { id: string; message: string };
  errorInfo?: { reason: string; domain: string; metadata: Record<string, string> };
  /** The google.rpc.BadRequest's field violations, when the answer has one. */
  fieldViolations?: FieldViolation[];
  /** REST only. */
  httpStatus?: number;
  /** REST only, when the answer has one. */
  wwwAuthenticate?: string;
  /** The google.rpc.RetryInfo's delay, when the answer has one. */
  retryDelayMs?: number;
  /** The Retry-After header (a trailer over gRPC), when the answer has one. */
  retryAfter?: string;
}

export interface FieldViolation {
  field: string;
  description: string;
  reason: string;
}

export type CallResult = { ok: true; body: JsonObject } | ({ ok: false } & CallFailure);

export interface ProtocolClient {
  protocol: ProtocolName;
  /** A UserService RPC. */
  call(method: MethodName, request: JsonObject): Promise<CallResult>;
  /** Any RPC of the services. */
  callService<S extends ServiceName>(service: S, method: MethodOf<S>, request: JsonObject): Promise<CallResult>;
}

const transports = new Map<string, Transport>();

/**
 * One transport per protocol and server, as a real client keeps one: a new HTTP/2 transport per call (or per token)
 * would open a connection that stays open until the server's idle timeout, and the server caps connections per
 * address. The token travels in each call's headers instead.
 */
function transportFor(protocol: Exclude<ProtocolName, "rest">, baseUrl: string): Transport {
  const key = `${protocol} ${baseUrl}`;
  const known = transports.get(key);
  if (known) return known;
  const transport = {
    "connect-json": () => createConnectTransport({ baseUrl, httpVersion: "1.1", useBinaryFormat: false }),
    "connect-binary": () => createConnectTransport({ baseUrl, httpVersion: "1.1", useBinaryFormat: true }),
    "connect-h2": () => createConnectTransport({ baseUrl, httpVersion: "2" }),
    grpc: () => createGrpcTransport({ baseUrl }),
    "grpc-web": () => createGrpcWebTransport({ baseUrl, httpVersion: "1.1" }),
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

/** `headers`: sent with every call besides the token's. */
export function protocolClient(protocol: ProtocolName, baseUrl: string, token?: string, headers: Record<string, string> = {}): ProtocolClient {
  const withToken = { ...headers, ...(token === undefined ? {} : { authorization: `Bearer ${token}` }) };
  const callService = protocol === "rest" ? restCaller(baseUrl, withToken) : rpcCaller(transportFor(protocol, baseUrl), withToken);
  return {
    protocol,
    call: (method, request) => callService("UserService", method, request),
    callService,
  };
}

type ServiceCaller = ProtocolClient["callService"];

function methodDesc(service: ServiceName, method: string) {
  const desc = (services[service] as DescService).method[method];
  if (!desc) throw new Error(`${service} has no method ${method}`);
  return desc;
}

function rpcCaller(transport: Transport, header: Record<string, string>): ServiceCaller {
  return async (service, method, request) => {
    const desc = methodDesc(service, method);
    if (desc.methodKind !== "unary") throw new Error(`${service}/${method} is not unary`);
    try {
      const response = await transport.unary(desc as DescMethodUnary, undefined, undefined, header, fromJson(desc.input, request), undefined);
      return { ok: true, body: toJson(desc.output, response.message) as JsonObject };
    } catch (error) {
      return { ok: false, ...fromConnectError(ConnectError.from(error)) };
    }
  };
}

function fromConnectError(error: ConnectError): CallFailure {
  const [detail] = error.findDetails(ErrorDetailSchema);
  const [info] = error.findDetails(ErrorInfoSchema);
  const [badRequest] = error.findDetails(BadRequestSchema);
  const [retry] = error.findDetails(RetryInfoSchema);
  const retryAfter = error.metadata.get("retry-after");
  return {
    ...(retry?.retryDelay ? { retryDelayMs: durationMs(retry.retryDelay) } : {}),
    ...(retryAfter === null ? {} : { retryAfter }),
    code: error.code,
    message: error.rawMessage,
    ...(detail ? { errorDetail: { id: detail.id, message: detail.message } } : {}),
    ...(info ? { errorInfo: { reason: info.reason, domain: info.domain, metadata: { ...info.metadata } } } : {}),
    ...(badRequest ? { fieldViolations: badRequest.fieldViolations.map(fieldViolation) } : {}),
  };
}

function fieldViolation({ field, description, reason }: FieldViolation): FieldViolation {
  return { field, description, reason };
}

function restCaller(baseUrl: string, callHeaders: Record<string, string>): ServiceCaller {
  return async (service, method, request) => {
    const route = (restRoutes[service] as Partial<Record<string, RestRoute>>)[method];
    if (route === undefined) return connectJsonCall(baseUrl, callHeaders, service, method, request);
    const [httpMethod, template, bodyless] = route;
    const fields: Record<string, JsonValue> = { ...request };
    const path = template.replace(/\{(\w+)\}/g, (_match, name: string) => {
      const value = String(fields[name] ?? "");
      delete fields[name];
      return encodeURIComponent(value);
    });
    const withBody = bodyless === undefined;
    const query = withBody ? "" : queryString(fields);
    const response = await fetch(`${baseUrl}${path}${query}`, {
      method: httpMethod,
      headers: { ...(withBody ? { "content-type": "application/json" } : {}), ...callHeaders },
      ...(withBody ? { body: JSON.stringify(fields) } : {}),
    });
    const json = (await response.json()) as JsonObject;
    if (response.ok) return { ok: true, body: json };
    return { ok: false, ...httpFailure(response), ...fromStatusJson(json) };
  };
}

/** Fields as grpc-gateway reads them from a URL: dotted paths to scalars, repeated fields repeated. */
function queryString(fields: JsonObject): string {
  const parameters = new URLSearchParams();
  const add = (prefix: string, value: JsonValue | undefined) => {
    if (value === null || value === undefined) return;
    if (Array.isArray(value)) for (const item of value) add(prefix, item);
    else if (typeof value === "object") for (const [name, inner] of Object.entries(value)) add(`${prefix}.${name}`, inner);
    else parameters.append(prefix, String(value));
  };
  for (const [name, value] of Object.entries(fields)) add(name, value);
  const text = parameters.toString();
  return text === "" ? "" : `?${text}`;
}

function httpFailure(response: Response): Pick<CallFailure, "httpStatus" | "wwwAuthenticate" | "retryAfter"> {
  const challenge = response.headers.get("www-authenticate");
  const retryAfter = response.headers.get("retry-after");
  return {
    httpStatus: response.status,
    ...(challenge === null ? {} : { wwwAuthenticate: challenge }),
    ...(retryAfter === null ? {} : { retryAfter }),
  };
}

function durationMs(duration: Duration): number {
  return Number(duration.seconds) * 1000 + Math.round(duration.nanos / 1_000_000);
}

/** What `curl -X POST <url>/<package>.<Service>/<Method> -H 'content-type: application/json' -d '{…}'` gets. */
async function connectJsonCall(
  baseUrl: string,
  authorization: Record<string, string>,
  service: ServiceName,
  method: string,
  request: JsonObject,
): Promise<CallResult> {
  const desc = methodDesc(service, method);
  const response = await fetch(`${baseUrl}/${services[service].typeName}/${desc.name}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...authorization },
    body: JSON.stringify(request),
  });
  const json = (await response.json()) as JsonObject;
  if (response.ok) return { ok: true, body: json };
  return { ok: false, ...httpFailure(response), ...fromConnectJson(json) };
}

const connectCodes = new Map(
  Object.values(Code)
    .filter((code): code is Code => typeof code === "number")
    .map((code) => [Code[code].replace(/([a-z])([A-Z])/g, "$1_$2").toLowerCase(), code]),
);

/** Connect's JSON error: `{"code": "not_found", "message", "details": [{"type", "value": base64}]}`. */
function fromConnectJson(error: JsonObject): CallFailure {
  const details = (error.details ?? []) as JsonObject[];
  const decode = <T extends DescMessage>(schema: T) => {
    const found = details.find((d) => d.type === schema.typeName);
    return found ? fromBinary(schema, base64Decode(found.value as string)) : undefined;
  };
  const detail = decode(ErrorDetailSchema);
  const info = decode(ErrorInfoSchema);
  const badRequest = decode(BadRequestSchema);
  const retry = decode(RetryInfoSchema);
  return {
    ...(retry?.retryDelay ? { retryDelayMs: durationMs(retry.retryDelay) } : {}),
    code: connectCodes.get(error.code as string) ?? Code.Unknown,
    message: (error.message as string | undefined) ?? "",
    ...(detail ? { errorDetail: { id: detail.id, message: detail.message } } : {}),
    ...(info ? { errorInfo: { reason: info.reason, domain: info.domain, metadata: { ...info.metadata } } } : {}),
    ...(badRequest ? { fieldViolations: badRequest.fieldViolations.map(fieldViolation) } : {}),
  };
}

/** REST's google.rpc.Status JSON. */
function fromStatusJson(status: JsonObject): CallFailure {
  const details = (status.details ?? []) as JsonObject[];
  const detail = details.find((d) => d["@type"] === "type.googleapis.com/zitadel.v1.ErrorDetail");
  const info = details.find((d) => d["@type"] === "type.googleapis.com/google.rpc.ErrorInfo");
  const badRequest = details.find((d) => d["@type"] === "type.googleapis.com/google.rpc.BadRequest");
  const retry = details.find((d) => d["@type"] === "type.googleapis.com/google.rpc.RetryInfo");
  return {
    // proto3 JSON writes a Duration as decimal seconds with an "s": "59.5s".
    ...(retry ? { retryDelayMs: Math.round(Number.parseFloat(retry.retryDelay as string) * 1000) } : {}),
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
    ...(badRequest ? { fieldViolations: ((badRequest.fieldViolations ?? []) as Partial<FieldViolation>[]).map(fieldViolationJson) } : {}),
  };
}

/** proto3 JSON leaves out empty strings. */
function fieldViolationJson({ field = "", description = "", reason = "" }: Partial<FieldViolation>): FieldViolation {
  return { field, description, reason };
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
