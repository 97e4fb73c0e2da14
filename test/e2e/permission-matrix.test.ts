// The permission matrix: every RPC × every kind of caller → the answer test/access/permission-matrix.ts expects, on
// Connect, gRPC, gRPC-Web and REST. Each cell acts on a fresh target made through the API, so no cell depends on
// another; the callers are made once, through the API too, as an operator makes them. README.md's access table is
// printed from the same expected matrix, and checked here.
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { JsonObject } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { permissionTable } from "../../scripts/permission-table.js";
import { type Call, type Caller, type Outcome, callers, calls, expected } from "../access/permission-matrix.js";
import { type CallerFactory, callerFactory } from "../helpers/callers.js";
import {
  type CallResult,
  type MethodOf,
  type ProtocolClient,
  type ProtocolName,
  type ServiceName,
  protocolClient,
} from "../helpers/protocol-clients.js";
import { type TestServer, startTestServer } from "../helpers/test-server.js";

const protocols: ProtocolName[] = ["connect-json", "grpc", "grpc-web", "rest"];

let server: TestServer;
let factory: CallerFactory;
let admin: ProtocolClient;
let targetOrganization: string;
let otherOrganization: string;
/** The callers made once, by kind; "the user themself" is the target of each cell. */
const tokens: Partial<Record<Caller, string | undefined>> = {};

let sequence = 0;
const prefix = randomBytes(3).toString("hex");
const unique = (kind: string) => `${kind}-${prefix}-${++sequence}`;
/** A Swiss mobile number no other cell uses. */
const mobile = () => `+4179${String(1_000_000 + ++sequence).slice(-7)}`;
const email = () => `${unique("mail")}@target.example.com`;

const ok = async (result: Promise<CallResult>, what: string): Promise<JsonObject> => {
  const answer = await result;
  if (!answer.ok) throw new Error(`setting up, ${what}: ${answer.code} ${answer.message}`);
  return answer.body;
};

beforeAll(async () => {
  server = await startTestServer();
  factory = callerFactory(server);
  admin = protocolClient("connect-json", server.url, server.adminToken);
  targetOrganization = await factory.addOrganization("target");
  otherOrganization = await factory.addOrganization("other");

  const viewer = await factory.addCaller({ organizationId: targetOrganization, roles: { [targetOrganization]: ["ORG_USER_VIEWER"] } });
  const manager = await factory.addCaller({ organizationId: targetOrganization, roles: { [targetOrganization]: ["ORG_USER_MANAGER"] } });
  const otherOwner = await factory.addCaller({ organizationId: otherOrganization, roles: { [otherOrganization]: ["ORG_OWNER"] } });

  // The refused callers hold IAM_OWNER: but for their token, every call of theirs would succeed.
  const ghost = await factory.addCaller({ organizationId: targetOrganization, roles: { "": ["IAM_OWNER"] } });
  const removed = await factory.addToken(ghost.userId);
  const expiring = await factory.addToken(ghost.userId, 60_000);
  const disabled = await factory.addCaller({ organizationId: targetOrganization, roles: { "": ["IAM_OWNER"] } });
  const works = async (token: string, userId: string) => ok(asCaller("connect-json", token).call("getUserByID", { userId }), "a caller's token");
  for (const [token, userId] of [
    [viewer.token, viewer.userId],
    [manager.token, manager.userId],
    [otherOwner.token, otherOwner.userId],
    [removed.token, ghost.userId],
    [expiring.token, ghost.userId],
    [disabled.token, disabled.userId],
  ] as const) {
    await works(token, userId);
  }
  expect(await factory.removeToken(ghost.userId, removed.tokenId)).toBe(true);
  await factory.changeStatus(disabled.userId, "deactivate");
  // Past the expiring token's end, once, before any cell: codes and tokens made from here on are unaffected.
  server.clock.advance(120_000);
  await works(ghost.token, ghost.userId);

  Object.assign(tokens, {
    "no token": undefined,
    "bad token": randomBytes(32).toString("base64url"),
    "removed token": removed.token,
    "expired token": expiring.token,
    "disabled user": disabled.token,
    ORG_USER_VIEWER: viewer.token,
    ORG_USER_MANAGER: manager.token,
    "owner of another org": otherOwner.token,
    IAM_OWNER: server.adminToken,
  } satisfies Record<Exclude<Caller, "the user themself">, string | undefined>);
});

afterAll(async () => {
  factory?.close();
  await server?.close();
});

function asCaller(protocol: ProtocolName, token: string | undefined): ProtocolClient {
  return protocolClient(protocol, server.url, token);
}

/** A person of organization "target" with a phone and an email pending verification (codes known to the test). */
interface Person {
  kind: "person";
  userId: string;
  phoneCode: string;
  emailCode: string;
  /** Set when the person logs in: when it is the caller. */
  password?: string;
}

/** A service account of organization "target" with a token to remove. */
interface ServiceAccount {
  kind: "service account";
  userId: string;
  spareTokenId: string;
}

async function addPerson(withPassword: boolean): Promise<Person & { token?: string }> {
  const username = unique("person");
  const password = withPassword ? `Pw-${randomBytes(12).toString("base64url")}` : undefined;
  const added = await ok(
    admin.call("addHumanUser", {
      organization: { orgId: targetOrganization },
      username,
      profile: { givenName: "Tess", familyName: "Target" },
      email: { email: email(), returnCode: {} },
      phone: { phone: mobile(), returnCode: {} },
      ...(password === undefined ? {} : { password: { password } }),
    }),
    "AddHumanUser",
  );
  const person: Person = {
    kind: "person",
    userId: added.userId as string,
    phoneCode: added.phoneCode as string,
    emailCode: added.emailCode as string,
  };
  if (password === undefined) return person;
  // Both encodings of the password grant are in use; either gives the person its token.
  return { ...person, password, token: await factory.login(username, password, sequence % 2 === 0 ? "form" : "json") };
}

async function addServiceAccount(withToken: boolean): Promise<ServiceAccount & { token?: string }> {
  const created = await ok(
    admin.call("createUser", { organizationId: targetOrganization, username: unique("service"), machine: { name: "Target service" } }),
    "CreateUser",
  );
  const userId = created.id as string;
  const spare = await factory.addToken(userId);
  return {
    kind: "service account",
    userId,
    spareTokenId: spare.tokenId,
    ...(withToken ? { token: (await factory.addToken(userId)).token } : {}),
  };
}

/** An application of organization "target", by its app id. */
async function addApplication(): Promise<string> {
  const created = await ok(
    admin.callService("ApplicationService", "createApplication", { organizationId: targetOrganization, name: unique("app") }),
    "CreateApplication",
  );
  return (created.application as JsonObject).appId as string;
}

type Rpc = { [S in ServiceName]: readonly [S, MethodOf<S>] }[ServiceName];

interface CellSpec<T extends Person | ServiceAccount> {
  rpc: Rpc;
  target: T["kind"];
  /** What the call needs of the target before it, when the caller is somebody else. */
  before?: (target: T) => Promise<void>;
  /** May first make what the request names, for every caller (an application to delete). */
  request: (target: T, self: boolean) => JsonObject | Promise<JsonObject>;
  /** For listings: does the answer show the target (its user, or its organization)? */
  shows?: (body: JsonObject, target: T) => boolean;
}

const person = (spec: Omit<CellSpec<Person>, "target">): CellSpec<Person> => ({ ...spec, target: "person" });
const serviceAccount = (spec: Omit<CellSpec<ServiceAccount>, "target">): CellSpec<ServiceAccount> => ({
  ...spec,
  target: "service account",
});
const user = (method: MethodOf<"UserService">): Rpc => ["UserService", method];
const ofTarget = ({ userId }: { userId: string }) => ({ userId });
const results = (body: JsonObject, field: string) => (body[field] ?? []) as JsonObject[];

const cells: Record<Call, CellSpec<Person> | CellSpec<ServiceAccount>> = {
  GetUserByID: person({ rpc: user("getUserByID"), request: ofTarget }),
  ListUsers: person({
    rpc: user("listUsers"),
    request: ({ userId }) => ({ queries: [{ inUserIdsQuery: { userIds: [userId] } }] }),
    shows: (body, { userId }) => results(body, "result").some((found) => found.userId === userId),
  }),
  AddHumanUser: person({
    rpc: user("addHumanUser"),
    request: () => ({
      organization: { orgId: targetOrganization },
      username: unique("added"),
      profile: { givenName: "Ada", familyName: "Added" },
      email: { email: email(), sendCode: {} },
    }),
  }),
  "CreateUser (machine)": person({
    rpc: user("createUser"),
    request: () => ({ organizationId: targetOrganization, username: unique("created"), machine: { name: "Created service" } }),
  }),
  "SetPhone send_code": person({ rpc: user("setPhone"), request: ({ userId }) => ({ userId, phone: mobile(), sendCode: {} }) }),
  "SetPhone return_code": person({ rpc: user("setPhone"), request: ({ userId }) => ({ userId, phone: mobile(), returnCode: {} }) }),
  "SetPhone is_verified": person({ rpc: user("setPhone"), request: ({ userId }) => ({ userId, phone: mobile(), isVerified: true }) }),
  "ResendPhoneCode send_code": person({ rpc: user("resendPhoneCode"), request: ({ userId }) => ({ userId, sendCode: {} }) }),
  "ResendPhoneCode return_code": person({ rpc: user("resendPhoneCode"), request: ({ userId }) => ({ userId, returnCode: {} }) }),
  VerifyPhone: person({ rpc: user("verifyPhone"), request: ({ userId, phoneCode }) => ({ userId, verificationCode: phoneCode }) }),
  RemovePhone: person({ rpc: user("removePhone"), request: ofTarget }),
  "SetEmail send_code": person({ rpc: user("setEmail"), request: ({ userId }) => ({ userId, email: email(), sendCode: {} }) }),
  "SetEmail return_code": person({ rpc: user("setEmail"), request: ({ userId }) => ({ userId, email: email(), returnCode: {} }) }),
  "ResendEmailCode send_code": person({ rpc: user("resendEmailCode"), request: ({ userId }) => ({ userId, sendCode: {} }) }),
  "SendEmailCode return_code": person({ rpc: user("sendEmailCode"), request: ({ userId }) => ({ userId, returnCode: {} }) }),
  "SetEmail send_code url_template": person({
    rpc: user("setEmail"),
    request: ({ userId }) => ({ userId, email: email(), sendCode: { urlTemplate: "https://phish.example/{{.Code}}" } }),
  }),
  "SendEmailCode send_code url_template": person({
    rpc: user("sendEmailCode"),
    request: ({ userId }) => ({ userId, sendCode: { urlTemplate: "https://phish.example/{{.Code}}" } }),
  }),
  VerifyEmail: person({ rpc: user("verifyEmail"), request: ({ userId, emailCode }) => ({ userId, verificationCode: emailCode }) }),
  // The user changes its own password with the current one; an administrator sets one without.
  SetPassword: person({
    rpc: user("setPassword"),
    request: ({ userId, password }, self) => ({
      userId,
      newPassword: { password: `New-${randomBytes(12).toString("base64url")}` },
      ...(self ? { currentPassword: password! } : {}),
    }),
  }),
  DeleteUser: person({ rpc: user("deleteUser"), request: ofTarget }),
  DeactivateUser: person({ rpc: user("deactivateUser"), request: ofTarget }),
  // A deactivated or locked user's tokens do not work: as the caller, the target stays active, so the answer is
  // about whether a user may reactivate or unlock itself, not about its refused token ("disabled user" is that).
  ReactivateUser: person({
    rpc: user("reactivateUser"),
    before: (target) => factory.changeStatus(target.userId, "deactivate"),
    request: ofTarget,
  }),
  LockUser: person({ rpc: user("lockUser"), request: ofTarget }),
  UnlockUser: person({
    rpc: user("unlockUser"),
    before: (target) => factory.changeStatus(target.userId, "lock"),
    request: ofTarget,
  }),
  AddPersonalAccessToken: serviceAccount({ rpc: user("addPersonalAccessToken"), request: ofTarget }),
  ListPersonalAccessTokens: serviceAccount({
    rpc: user("listPersonalAccessTokens"),
    request: ({ userId }) => ({ filters: [{ userIdFilter: { id: userId } }] }),
  }),
  RemovePersonalAccessToken: serviceAccount({
    rpc: user("removePersonalAccessToken"),
    request: ({ userId, spareTokenId }) => ({ userId, tokenId: spareTokenId }),
  }),
  AddOrganization: person({ rpc: ["OrganizationService", "addOrganization"], request: () => ({ name: unique("org") }) }),
  ListOrganizations: person({
    rpc: ["OrganizationService", "listOrganizations"],
    request: () => ({}),
    shows: (body) => results(body, "result").some((found) => found.id === targetOrganization),
  }),
  CreateAdministrator: person({
    rpc: ["InternalPermissionService", "createAdministrator"],
    request: ({ userId }) => ({ userId, resource: { organizationId: targetOrganization }, roles: ["ORG_USER_VIEWER"] }),
  }),
  ListAdministrators: person({
    rpc: ["InternalPermissionService", "listAdministrators"],
    request: () => ({ filters: [{ resource: { organizationId: targetOrganization } }] }),
  }),
  GetVerificationSettings: person({
    rpc: ["VerificationSettingsService", "getVerificationSettings"],
    request: () => ({ organizationId: targetOrganization }),
  }),
  // The defaults: the other cells send codes in the same organization, which must stay as limited as they were.
  SetVerificationSettings: person({
    rpc: ["VerificationSettingsService", "setVerificationSettings"],
    request: () => ({ organizationId: targetOrganization }),
  }),
  ListSecurityEvents: person({
    rpc: ["SecurityLogService", "listSecurityEvents"],
    request: ({ userId }) => ({ userId, kinds: ["login.succeeded"] }),
  }),
  CreateApplication: person({
    rpc: ["ApplicationService", "createApplication"],
    request: () => ({ organizationId: targetOrganization, name: unique("app") }),
  }),
  ListApplications: person({
    rpc: ["ApplicationService", "listApplications"],
    request: () => ({ organizationId: targetOrganization }),
  }),
  DeleteApplication: person({
    rpc: ["ApplicationService", "deleteApplication"],
    request: async () => ({ appId: await addApplication() }),
  }),
};

/**
 * What a listing that succeeds must show: the target user to those who may read it (itself, and user.read in its
 * organization), the target's organization to its members. Not in the expected matrix, which says only "ok".
 */
const shown: Partial<Record<Call, readonly Caller[]>> = {
  ListUsers: ["the user themself", "ORG_USER_VIEWER", "ORG_USER_MANAGER", "IAM_OWNER"],
  ListOrganizations: ["ORG_USER_VIEWER", "ORG_USER_MANAGER", "IAM_OWNER"],
};

const httpStatuses: Partial<Record<Code, number>> = {
  [Code.Unauthenticated]: 401,
  [Code.PermissionDenied]: 403,
  [Code.NotFound]: 404,
};

const named = (outcome: Outcome) => (outcome === "ok" ? "ok" : Code[outcome]);

/** The outcome's name when the answer is the expected one in every respect; otherwise what differs. */
function observed(
  result: CallResult,
  protocol: ProtocolName,
  expectation: Outcome,
  listing: { shows: boolean | undefined; shouldShow: boolean },
): string {
  if (result.ok) {
    if (listing.shows === undefined || listing.shows === listing.shouldShow) return "ok";
    return listing.shows ? "ok, but shows the target" : "ok, but hides the target";
  }
  const name = Code[result.code] ?? String(result.code);
  const problems: string[] = [];
  if (result.code !== expectation) problems.push(JSON.stringify(result.message));
  if (protocol === "rest") {
    const status = httpStatuses[result.code as Code];
    if (status !== undefined && result.httpStatus !== status) problems.push(`HTTP ${result.httpStatus}`);
    if (result.code === Code.Unauthenticated && result.wwwAuthenticate !== "Bearer") {
      problems.push(`WWW-Authenticate: ${result.wwwAuthenticate ?? "absent"}`);
    }
  }
  return problems.length === 0 ? name : `${name} (${problems.join(", ")})`;
}

/**
 * Cells run side by side, but at most this many at once: each holds at most one connection of each client (fetch's
 * pool, Node's HTTP/1.1 agent, one HTTP/2 session), far below the server's cap of connections per client address.
 */
const cellsAtOnce = 12;
let running = 0;
const waiting: (() => void)[] = [];
async function limited<T>(work: () => Promise<T>): Promise<T> {
  if (running >= cellsAtOnce) await new Promise<void>((resolve) => waiting.push(resolve));
  else running += 1;
  try {
    return await work();
  } finally {
    const next = waiting.shift();
    if (next) next();
    else running -= 1;
  }
}

async function runCell(protocol: ProtocolName, call: Call, caller: Caller): Promise<string> {
  // Each spec is typed for its kind of target; here one signature serves both.
  const spec = cells[call] as unknown as CellSpec<Person | ServiceAccount>;
  const self = caller === "the user themself";
  const made = spec.target === "person" ? await addPerson(self) : await addServiceAccount(self);
  if (!self) await spec.before?.(made);
  const { token: ownToken, ...target } = made;
  const [service, method] = spec.rpc;
  const request = await spec.request(target, self);
  const result = await asCaller(protocol, self ? ownToken : tokens[caller]).callService(service, method as never, request);
  return observed(result, protocol, expected[call][caller], {
    shows: result.ok && spec.shows ? spec.shows(result.body, target) : undefined,
    shouldShow: shown[call]?.includes(caller) ?? false,
  });
}

describe.each(protocols)("over %s", (protocol) => {
  it.concurrent.for(calls)("%s answers each caller as the matrix says", async (call, { expect }) => {
    const answers = await Promise.all(callers.map((caller) => limited(() => runCell(protocol, call, caller))));
    const expectations = callers.map((caller) => named(expected[call][caller]));
    expect(Object.fromEntries(callers.map((caller, i) => [caller, answers[i]]))).toEqual(
      Object.fromEntries(callers.map((caller, i) => [caller, expectations[i]])),
    );
  });
});

describe("README.md", () => {
  it("shows the access table printed from the matrix (npx tsx scripts/permission-table.ts)", () => {
    const readme = readFileSync(join(import.meta.dirname, "../../README.md"), "utf8");
    expect(readme.includes(permissionTable()), "README.md has the output of `npx tsx scripts/permission-table.ts`").toBe(true);
  });
});
