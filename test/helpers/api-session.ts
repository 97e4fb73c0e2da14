// Clients for UserService, OrganizationService and InternalPermissionService as a real caller holds them: connect-node
// clients over Connect (JSON), gRPC and gRPC-Web that send `authorization: Bearer <token>`, plain fetch for the REST
// paths and for POST /oauth2/token, and what a failure looks like on each (code, reason, HTTP status).
import { type Client, ConnectError, type Transport, createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import { BadRequestSchema, ErrorInfoSchema } from "../../src/gen/google/rpc/error_details_pb.js";
import { InternalPermissionService } from "../../src/gen/zitadel/internal_permission/v2beta/internal_permission_service_pb.js";
import { OrganizationService } from "../../src/gen/zitadel/org/v2/org_service_pb.js";
import { UserService } from "../../src/gen/zitadel/user/v2/user_service_pb.js";
import { bearer, expectOk, protocolClient } from "./protocol-clients.js";

export type RpcProtocol = "connect" | "grpc" | "grpc-web";
export const rpcProtocols: RpcProtocol[] = ["connect", "grpc", "grpc-web"];

export interface Api {
  users: Client<typeof UserService>;
  orgs: Client<typeof OrganizationService>;
  admins: Client<typeof InternalPermissionService>;
}

// One transport per protocol, server and token, as a real client keeps one: the server caps connections per address.
const transports = new Map<string, Transport>();

function transportFor(protocol: RpcProtocol, baseUrl: string, token: string): Transport {
  const key = `${protocol} ${baseUrl} ${token}`;
  let transport = transports.get(key);
  if (!transport) {
    const interceptors = [bearer(token)];
    transport =
      protocol === "connect"
        ? createConnectTransport({ baseUrl, httpVersion: "1.1", interceptors })
        : protocol === "grpc"
          ? createGrpcTransport({ baseUrl, interceptors })
          : createGrpcWebTransport({ baseUrl, httpVersion: "1.1", interceptors });
    transports.set(key, transport);
  }
  return transport;
}

export function api(baseUrl: string, token: string, protocol: RpcProtocol = "connect"): Api {
  const transport = transportFor(protocol, baseUrl, token);
  return {
    users: createClient(UserService, transport),
    orgs: createClient(OrganizationService, transport),
    admins: createClient(InternalPermissionService, transport),
  };
}

export interface Failure {
  code: number;
  message: string;
  reason?: string;
  metadata?: Record<string, string>;
  /** The google.rpc.BadRequest's, when there is one. */
  fieldViolations?: { field: string; description: string; reason: string }[];
}

/** The error a call ended with; fails the test when it succeeded. */
export async function failure(call: Promise<unknown>): Promise<Failure> {
  try {
    await call;
  } catch (error) {
    const connectError = ConnectError.from(error);
    const [info] = connectError.findDetails(ErrorInfoSchema);
    const [badRequest] = connectError.findDetails(BadRequestSchema);
    return {
      code: connectError.code,
      message: connectError.rawMessage,
      ...(info ? { reason: info.reason, metadata: { ...info.metadata } } : {}),
      ...(badRequest
        ? { fieldViolations: badRequest.fieldViolations.map(({ field, description, reason }) => ({ field, description, reason })) }
        : {}),
    };
  }
  throw new Error("expected the call to fail, and it succeeded");
}

export interface RestAnswer {
  status: number;
  // biome-ignore lint: JSON of any shape
  body: any;
  /** For a failure: the reason of its ErrorInfo detail. */
  reason?: string;
}

/** A REST call as curl makes it: JSON body, bearer token. */
export async function rest(baseUrl: string, token: string | undefined, method: string, path: string, body?: unknown): Promise<RestAnswer> {
  const response = await fetch(`${baseUrl}${path}`, {
    method,
    headers: {
      ...(body === undefined ? {} : { "content-type": "application/json" }),
      ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  const json = text ? JSON.parse(text) : {};
  const details = (json?.details ?? []) as { "@type"?: string; reason?: string }[];
  const info = Array.isArray(details) ? details.find((d) => d["@type"] === "type.googleapis.com/google.rpc.ErrorInfo") : undefined;
  return { status: response.status, body: json, ...(info?.reason ? { reason: info.reason } : {}) };
}

export interface LoginAnswer {
  status: number;
  body: { id?: string; access_token?: string; expires_in?: number; token_type?: string; error?: string };
}

/** POST /oauth2/token with the password grant, form-encoded (RFC 6749) or JSON (Kii Cloud). */
export async function passwordLogin(
  baseUrl: string,
  username: string,
  password: string,
  encoding: "form" | "json" = "form",
): Promise<LoginAnswer> {
  const parameters = { grant_type: "password", username, password };
  const response = await fetch(`${baseUrl}/oauth2/token`, {
    method: "POST",
    ...(encoding === "form"
      ? { body: new URLSearchParams(parameters) }
      : { headers: { "content-type": "application/json" }, body: JSON.stringify(parameters) }),
  });
  return { status: response.status, body: (await response.json()) as LoginAnswer["body"] };
}

let sequence = 0;
/** A name no other call in this process used. */
export function unique(prefix: string): string {
  sequence += 1;
  return `${prefix}-${process.pid}-${sequence}`;
}

/** A Swiss mobile number no other call in this process used. */
export function uniqueMobile(): string {
  sequence += 1;
  return `+4179${String(1_000_000 + sequence).slice(-7)}`;
}

/** Helpers that set things up as the administrator, over Connect. */
export function fixtures(baseUrl: string, adminToken: string) {
  const admin = api(baseUrl, adminToken);
  return {
    admin,
    async organization(name = unique("org")): Promise<string> {
      return (await admin.orgs.addOrganization({ name })).organizationId;
    },
    /** A person with a verified email address, optionally a password. */
    async person(organizationId: string, options: { username?: string; password?: string } = {}): Promise<string> {
      const username = options.username ?? unique("person");
      const { userId } = await admin.users.addHumanUser({
        username,
        organization: { org: { case: "orgId", value: organizationId } },
        profile: { givenName: "Given", familyName: username },
        email: { email: `${username}@example.com`, verification: { case: "isVerified", value: true } },
        ...(options.password ? { passwordType: { case: "password", value: { password: options.password } } } : {}),
      });
      return userId;
    },
    /** A service account with a personal access token. */
    async machine(organizationId: string, name = unique("svc")): Promise<{ userId: string; token: string; tokenId: string }> {
      const { id: userId } = await admin.users.createUser({
        organizationId,
        username: name,
        userType: { case: "machine", value: { name } },
      });
      const { token, tokenId } = await admin.users.addPersonalAccessToken({ userId });
      return { userId, token, tokenId };
    },
    /** A service account holding these roles on an organization (or the instance, ""), with its token. */
    async member(organizationId: string, roles: string[], home = organizationId || undefined) {
      const account = await this.machine(home ?? (await this.defaultOrganization()));
      await admin.admins.createAdministrator({
        userId: account.userId,
        resource: { resource: organizationId === "" ? { case: "instance", value: true } : { case: "organizationId", value: organizationId } },
        roles,
      });
      return account;
    },
    async defaultOrganization(): Promise<string> {
      const { result } = await admin.orgs.listOrganizations({ queries: [{ query: { case: "defaultQuery", value: {} } }] });
      const [first] = result;
      if (!first) throw new Error("no default organization");
      return first.id;
    },
  };
}

/** A person added by the administrator with a mobile number of its own, and the code verifyd returned for it. */
export async function userWithPhoneCode(server: { url: string; adminToken: string }): Promise<{ userId: string; code: string }> {
  const added = expectOk(
    await protocolClient("connect-json", server.url, server.adminToken).call("addHumanUser", {
      profile: { givenName: "Ada", familyName: "Lovelace" },
      phone: { phone: uniqueMobile(), returnCode: {} },
    }),
  );
  return { userId: added.userId as string, code: added.phoneCode as string };
}
