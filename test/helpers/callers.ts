// Callers for access-control tests, made through the public API as an operator makes them, with the bootstrap
// administrator's (IAM_OWNER) token: organizations (AddOrganization), service accounts (CreateUser with `machine`)
// with personal access tokens (AddPersonalAccessToken), people with a password (AddHumanUser) who log in
// (POST /oauth2/token), and roles (CreateAdministrator).
import { randomBytes } from "node:crypto";
import type { JsonObject } from "@bufbuild/protobuf";
import type { Role } from "../../src/domain/access/principal.js";
import { type CallResult, expectOk, protocolClient } from "./protocol-clients.js";
import type { TestServer } from "./test-server.js";

export interface Caller {
  userId: string;
  organizationId: string;
  username: string;
  token: string;
}

/** A service account, with the id of the personal access token it calls with. */
export interface ServiceAccountCaller extends Caller {
  kind: "service account";
  tokenId: string;
}

/** A person, with the password it logged in with (its token is a login token: the API cannot remove it). */
export interface PersonCaller extends Caller {
  kind: "person";
  password: string;
}

/** Roles by resource: an organization's id, or "" for the instance (IAM_OWNER). */
export type Grants = Record<string, Role[]>;

export interface CallerOptions {
  /** Where the user is created; default: the default organization. */
  organizationId?: string;
  roles?: Grants;
}

export type StatusChange = "deactivate" | "reactivate" | "lock" | "unlock";

export interface CallerFactory {
  /** A new organization's id. */
  addOrganization(name?: string): Promise<string>;
  /** The default organization's id. */
  defaultOrganization(): Promise<string>;
  /** A service account (default) with a personal access token, or a person who logged in with a password. */
  addCaller(options?: CallerOptions & { kind?: "service account" }): Promise<ServiceAccountCaller>;
  addCaller(options: CallerOptions & { kind: "person" }): Promise<PersonCaller>;
  /** Another personal access token for a service account, expiring after `ttlMs` of the server's clock. */
  addToken(userId: string, ttlMs?: number): Promise<{ token: string; tokenId: string }>;
  /** RemovePersonalAccessToken; false when there was no such token. */
  removeToken(userId: string, tokenId: string): Promise<boolean>;
  /** CreateAdministrator, for each resource. */
  grant(userId: string, roles: Grants): Promise<void>;
  /** DeactivateUser, ReactivateUser, LockUser or UnlockUser. */
  changeStatus(userId: string, change: StatusChange): Promise<void>;
  /** POST /oauth2/token with the password grant; the access token. */
  login(username: string, password: string, encoding?: "form" | "json"): Promise<string>;
  /** Nothing to release; kept so that tests can close what they opened. */
  close(): void;
}

const dayMs = 24 * 60 * 60 * 1000;

/** Makes callers with `adminToken` (default: the server's bootstrap IAM_OWNER token). */
export function callerFactory(server: TestServer, adminToken = server.adminToken): CallerFactory {
  const admin = protocolClient("connect-json", server.url, adminToken);
  const prefix = randomBytes(3).toString("hex");
  let sequence = 0;
  const unique = (kind: string) => `${kind}-${prefix}-${++sequence}`;
  let defaultOrganizationId: Promise<string> | undefined;

  const ok = async (result: Promise<CallResult>, what: string): Promise<JsonObject> => {
    const answer = await result;
    if (!answer.ok) throw new Error(`${what}: ${answer.code} ${answer.message}`);
    return answer.body;
  };

  const defaultOrganization = () =>
    (defaultOrganizationId ??= ok(
      admin.callService("OrganizationService", "listOrganizations", { queries: [{ defaultQuery: {} }] }),
      "ListOrganizations (default)",
    ).then((body) => {
      const [organization] = (body.result ?? []) as JsonObject[];
      if (!organization) throw new Error("no default organization");
      return organization.id as string;
    }));

  const addToken = async (userId: string, ttlMs = dayMs) => {
    const expirationDate = new Date(server.clock.now().getTime() + ttlMs).toISOString();
    const body = await ok(admin.call("addPersonalAccessToken", { userId, expirationDate }), "AddPersonalAccessToken");
    return { token: body.token as string, tokenId: body.tokenId as string };
  };

  const grant = async (userId: string, roles: Grants) => {
    for (const [resource, granted] of Object.entries(roles)) {
      await ok(
        admin.callService("InternalPermissionService", "createAdministrator", {
          userId,
          resource: resource === "" ? { instance: true } : { organizationId: resource },
          roles: granted,
        }),
        "CreateAdministrator",
      );
    }
  };

  const login = async (username: string, password: string, encoding: "form" | "json" = "form") => {
    const parameters = { grant_type: "password", username, password };
    const response = await fetch(`${server.url}/oauth2/token`, {
      method: "POST",
      ...(encoding === "form"
        ? { body: new URLSearchParams(parameters) }
        : { headers: { "content-type": "application/json" }, body: JSON.stringify(parameters) }),
    });
    const body = (await response.json()) as { access_token?: string; error?: string };
    if (response.status !== 200 || !body.access_token) throw new Error(`login as ${username}: ${response.status} ${body.error}`);
    return body.access_token;
  };

  async function addCaller(options: CallerOptions & { kind?: "service account" }): Promise<ServiceAccountCaller>;
  async function addCaller(options: CallerOptions & { kind: "person" }): Promise<PersonCaller>;
  async function addCaller({
    organizationId,
    roles = {},
    kind = "service account",
  }: CallerOptions & { kind?: "service account" | "person" } = {}): Promise<ServiceAccountCaller | PersonCaller> {
    const organization = organizationId ?? (await defaultOrganization());
    if (kind === "person") {
      const username = unique("person");
      const password = `Pw-${randomBytes(12).toString("base64url")}`;
      const added = await ok(
        admin.call("addHumanUser", {
          organization: { orgId: organization },
          username,
          profile: { givenName: "Test", familyName: "Caller" },
          email: { email: `${username}@callers.example.com`, isVerified: true },
          password: { password },
        }),
        "AddHumanUser",
      );
      const userId = added.userId as string;
      await grant(userId, roles);
      return { kind, userId, organizationId: organization, username, password, token: await login(username, password) };
    }
    const username = unique("service");
    const created = await ok(
      admin.call("createUser", { organizationId: organization, username, machine: { name: `Service ${username}` } }),
      "CreateUser",
    );
    const userId = created.id as string;
    await grant(userId, roles);
    return { kind: "service account", userId, organizationId: organization, username, ...(await addToken(userId, 365 * dayMs)) };
  }

  return {
    async addOrganization(name = unique("org")) {
      return (await ok(admin.callService("OrganizationService", "addOrganization", { name }), "AddOrganization")).organizationId as string;
    },
    defaultOrganization,
    addCaller,
    addToken,
    async removeToken(userId, tokenId) {
      const result = await admin.call("removePersonalAccessToken", { userId, tokenId });
      if (result.ok) return true;
      if (result.code === 5) return false;
      throw new Error(`RemovePersonalAccessToken: ${result.code} ${result.message}`);
    },
    grant,
    async changeStatus(userId, change) {
      expectOk(await admin.call(`${change}User`, { userId }));
    },
    login,
    close: () => undefined,
  };
}
