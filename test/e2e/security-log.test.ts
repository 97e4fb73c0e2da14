// The security log as an IAM_OWNER reads it through SecurityLogService: every security-relevant outcome with who
// caused it and whom it concerns, never a secret, newest first, filtered by user and kind, repeats counted on one
// entry. The outcomes are caused through the real API and login endpoint, as callers cause them.
import { join } from "node:path";
import { getOption, type JsonObject } from "@bufbuild/protobuf";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { securityEventKinds } from "../../src/domain/security/security-event.js";
import { field as validateField } from "../../src/gen/buf/validate/validate_pb.js";
import { ListSecurityEventsRequestSchema } from "../../src/gen/verifyd/security/v1/security_log_service_pb.js";
import { api, failure, fixtures, passwordLogin, unique, uniqueMobile } from "../helpers/api-session.js";
import { type ProtocolName, allProtocols, expectFailure, expectOk, protocolClient } from "../helpers/protocol-clients.js";
import { type TestServer, startTestServer } from "../helpers/test-server.js";
import { openLiveDatabase } from "../helpers/live-database.js";

/** A SecurityEvent in proto3 JSON: empty strings are absent. */
interface WireEvent {
  id: string;
  kind: string;
  firstOccurred: string;
  lastOccurred: string;
  count: number;
  actorId?: string;
  clientAddress?: string;
  userId?: string;
  organizationId?: string;
  detail?: Record<string, string>;
}

// Codes of letters, so that no id, time or count in the log can contain one by chance.
const codeFlags = ["--code-alphabet", "ABCDEFGHIJKLMNOPQRSTUVWXYZ", "--code-length", "8"];
const localhost = expect.stringMatching(/127\.0\.0\.1$/);

let server: TestServer;
let setup: ReturnType<typeof fixtures>;
let organizationId: string;
let adminId: string;

async function listEvents(request: JsonObject, protocol: ProtocolName = "connect-json") {
  const client = protocolClient(protocol, server.url, server.adminToken);
  const body = expectOk(await client.callService("SecurityLogService", "listSecurityEvents", request));
  const details = body.details as { totalResult?: string } | undefined;
  return { total: Number(details?.totalResult ?? 0), events: (body.result ?? []) as unknown as WireEvent[] };
}
const eventsAbout = async (userId: string, kinds: string[] = []) => (await listEvents({ userId, kinds })).events;

/** A person with a password and a phone number awaiting its code, which the test knows. */
async function personWithPhone(password = `Pw-${unique("secret")}`) {
  const username = unique("person");
  const { userId, phoneCode } = await setup.admin.users.addHumanUser({
    username,
    organization: { org: { case: "orgId", value: organizationId } },
    profile: { givenName: "Ada", familyName: "Lovelace" },
    phone: { phone: uniqueMobile(), verification: { case: "returnCode", value: {} } },
    passwordType: { case: "password", value: { password } },
  });
  if (!phoneCode) throw new Error("no phone code returned");
  return { userId, username, password, phoneCode };
}

/** Wrong but for a chance of one in 26^8. */
const wrongCode = "ZZZZZZZZ";

beforeAll(async () => {
  server = await startTestServer(["--max-consecutive-failures", "3", ...codeFlags]);
  setup = fixtures(server.url, server.adminToken);
  organizationId = await setup.organization();
  const [bootstrapToken] = (await listEvents({ kinds: ["token.created"], query: { asc: true, limit: 1 } })).events;
  adminId = bootstrapToken?.userId ?? "";
});
afterAll(async () => {
  await server?.close();
});

describe("what is recorded", () => {
  it("the first start: the administrator's role and token, caused by nobody", async () => {
    const events = await eventsAbout(adminId, ["token.created", "roles.changed"]);
    expect(events).toEqual([
      expect.objectContaining({ kind: "token.created", count: 1, detail: { tokenId: expect.any(String), kind: "personal", origin: "bootstrap" } }),
      expect.objectContaining({
        kind: "roles.changed",
        detail: { change: "created", organizationId: "", roles: "IAM_OWNER", origin: "bootstrap" },
      }),
    ]);
    for (const event of events) expect(event.actorId).toBeUndefined();
  });

  it("logins that succeed and fail, with the login name, the reason, the client's address and the user's organization", async () => {
    const person = await personWithPhone();
    expect((await passwordLogin(server.url, person.username, "wrong password")).status).toBe(400);
    expect((await passwordLogin(server.url, person.username, person.password)).status).toBe(200);
    const nobody = unique("nobody");
    expect((await passwordLogin(server.url, nobody, "whatever it is")).status).toBe(400);

    expect(await eventsAbout(person.userId, ["login.succeeded", "login.failed"])).toEqual([
      expect.objectContaining({
        kind: "login.succeeded",
        actorId: person.userId,
        userId: person.userId,
        // The login named no organization: the user's own is recorded.
        organizationId,
        clientAddress: localhost,
        detail: { loginName: person.username },
      }),
      expect.objectContaining({
        kind: "login.failed",
        userId: person.userId,
        organizationId,
        clientAddress: localhost,
        detail: { loginName: person.username, reason: "PASSWORD_INVALID" },
      }),
    ]);
    const [unknown] = (await listEvents({ kinds: ["login.failed"] })).events;
    // A name nobody has is not kept: made-up names count on one entry per client address.
    expect(unknown).toMatchObject({ kind: "login.failed", clientAddress: localhost, detail: { reason: "LOGIN_NAME_UNKNOWN" } });
    expect(unknown?.detail).not.toHaveProperty("loginName");
    expect(unknown?.userId).toBeUndefined();
    expect(unknown?.actorId).toBeUndefined();
  });

  it("a wrong current password given to SetPassword, as a failed login by the caller", async () => {
    const person = await personWithPhone();
    const { body } = await passwordLogin(server.url, person.username, person.password);
    const asPerson = protocolClient("connect-json", server.url, body.access_token);
    const refused = await asPerson.call("setPassword", {
      userId: person.userId,
      newPassword: { password: "a brand new password" },
      currentPassword: "not the current one",
    });
    expect(expectFailure(refused).errorInfo?.reason).toBe("PASSWORD_INVALID");
    expect(await eventsAbout(person.userId, ["login.failed"])).toEqual([
      expect.objectContaining({
        actorId: person.userId,
        userId: person.userId,
        detail: { method: "UserService/SetPassword", reason: "PASSWORD_INVALID" },
      }),
    ]);
  });

  it("logins refused by the throttle, as a limit reached", async () => {
    const person = await personWithPhone();
    for (let attempt = 0; attempt < 6; attempt++) await passwordLogin(server.url, person.username, "wrong password");
    const [throttled] = (await listEvents({ kinds: ["limit.reached"] })).events;
    expect(throttled).toMatchObject({
      clientAddress: localhost,
      count: 1,
      detail: { loginName: person.username, reason: "PASSWORD_CHECKS_THROTTLED" },
    });
    expect((await eventsAbout(person.userId, ["login.failed"]))[0]).toMatchObject({ count: 5 });
  });

  it("calls refused for lack of permission, with the caller, the user, the method and the permission", async () => {
    const person = await personWithPhone();
    const viewer = await setup.member(organizationId, ["ORG_USER_VIEWER"]);
    const refused = await protocolClient("rest", server.url, viewer.token).call("setPhone", {
      userId: person.userId,
      phone: uniqueMobile(),
      returnCode: {},
    });
    expect(expectFailure(refused).code).toBe(7);
    expect(await eventsAbout(person.userId, ["permission.denied"])).toEqual([
      expect.objectContaining({
        actorId: viewer.userId,
        userId: person.userId,
        detail: { method: "UserService/SetPhone", permission: "user.write", reason: "PERMISSION_DENIED" },
      }),
    ]);
  });

  it("wrong codes, the lockout the last of them starts, and the limit that refuses the next", async () => {
    const person = await personWithPhone();
    for (let attempt = 0; attempt < 3; attempt++) {
      const answer = await failure(setup.admin.users.verifyPhone({ userId: person.userId, verificationCode: wrongCode }));
      expect(answer.reason).toBe("INVALID_VERIFICATION_CODE");
    }
    const refused = await failure(setup.admin.users.verifyPhone({ userId: person.userId, verificationCode: person.phoneCode }));
    expect(refused.reason).toBe("TOO_MANY_FAILURES");

    const about = { actorId: adminId, userId: person.userId };
    expect(await eventsAbout(person.userId)).toEqual([
      expect.objectContaining({ kind: "limit.reached", ...about, detail: { method: "UserService/VerifyPhone", reason: "TOO_MANY_FAILURES" } }),
      expect.objectContaining({ kind: "contact.locked", ...about, count: 1, detail: { channel: "phone", lockedForSeconds: "3600" } }),
      expect.objectContaining({ kind: "code.failed", ...about, count: 3, detail: { channel: "phone" } }),
    ]);
  });

  it("codes asked for too often, as a limit reached with the limit's name", async () => {
    const person = await personWithPhone();
    // Codes returned to the caller are never sent, and count for no limit.
    const resend = () => setup.admin.users.resendPhoneCode({ userId: person.userId, verification: { case: "sendCode", value: {} } });
    await resend();
    expect((await failure(resend())).reason).toBe("SEND_LIMIT_REACHED");
    expect(await eventsAbout(person.userId, ["limit.reached"])).toEqual([
      expect.objectContaining({
        actorId: adminId,
        detail: { method: "UserService/ResendPhoneCode", reason: "SEND_LIMIT_REACHED", limit: "send_cooldown" },
      }),
    ]);
  });

  it("personal access tokens created and removed, with their id", async () => {
    const account = await setup.machine(organizationId);
    const { tokenId } = await setup.admin.users.addPersonalAccessToken({ userId: account.userId });
    await setup.admin.users.removePersonalAccessToken({ userId: account.userId, tokenId });
    const about = { actorId: adminId, userId: account.userId, organizationId };
    expect(await eventsAbout(account.userId)).toEqual([
      expect.objectContaining({ kind: "token.removed", ...about, detail: { tokenId, kind: "personal" } }),
      expect.objectContaining({ kind: "token.created", ...about, detail: { tokenId, kind: "personal" } }),
      expect.objectContaining({ kind: "token.created", ...about, detail: { tokenId: account.tokenId, kind: "personal" } }),
    ]);
  });

  it("roles granted, changed and revoked, with the roles held afterwards", async () => {
    const account = await setup.machine(organizationId);
    const resource = { resource: { case: "organizationId" as const, value: organizationId } };
    await setup.admin.admins.createAdministrator({ userId: account.userId, resource, roles: ["ORG_USER_MANAGER"] });
    await setup.admin.admins.updateAdministrator({ userId: account.userId, resource, roles: ["ORG_USER_VIEWER", "ORG_USER_MANAGER"] });
    await setup.admin.admins.deleteAdministrator({ userId: account.userId, resource });
    const about = { actorId: adminId, userId: account.userId, organizationId };
    expect(await eventsAbout(account.userId, ["roles.changed"])).toEqual([
      expect.objectContaining({ ...about, detail: { change: "deleted", organizationId, roles: "" } }),
      expect.objectContaining({ ...about, detail: { change: "updated", organizationId, roles: "ORG_USER_VIEWER,ORG_USER_MANAGER" } }),
      expect.objectContaining({ ...about, detail: { change: "created", organizationId, roles: "ORG_USER_MANAGER" } }),
    ]);
  });
});

describe("administrators' changes", () => {
  it("status changes and passwords set, by whom and for whom; whether the current password was given", async () => {
    const person = await personWithPhone();
    const manager = await setup.member(organizationId, ["ORG_USER_MANAGER"]);
    const asManager = api(server.url, manager.token, "grpc").users;
    await asManager.lockUser({ userId: person.userId });
    await asManager.unlockUser({ userId: person.userId });
    await asManager.setPassword({ userId: person.userId, newPassword: { password: "a password the manager set" } });
    const about = { actorId: manager.userId, userId: person.userId, organizationId };
    expect(await eventsAbout(person.userId, ["user.status.changed", "password.changed"])).toEqual([
      expect.objectContaining({ kind: "password.changed", ...about, detail: { currentPasswordGiven: "false" } }),
      expect.objectContaining({ kind: "user.status.changed", ...about, detail: { change: "unlock" } }),
      expect.objectContaining({ kind: "user.status.changed", ...about, detail: { change: "lock" } }),
    ]);
  });

  it("an organization's verification settings replaced, in a few words, and organizations added", async () => {
    const added = await setup.admin.orgs.addOrganization({ name: unique("audited") });
    const admin = protocolClient("connect-json", server.url, server.adminToken);
    expectOk(
      await admin.callService("VerificationSettingsService", "setVerificationSettings", {
        organizationId: added.organizationId,
        limits: { cooldownSeconds: 120, sendsPerCallerHour: 50 },
        phoneCountries: { mode: "PHONE_COUNTRIES_MODE_ALLOW_LIST", callingCodes: ["41", "49"] },
      }),
    );
    const of = (kind: string) => listEvents({ kinds: [kind], query: { limit: 1 } }).then(({ events }) => events[0]);
    expect(await of("settings.changed")).toMatchObject({
      actorId: adminId,
      organizationId: added.organizationId,
      detail: {
        organizationId: added.organizationId,
        limits: "cooldownSeconds=120,sendsPerCallerHour=50",
        phoneCountries: "allow:41,49",
        testContacts: "0",
      },
    });
    expect(await of("organization.created")).toMatchObject({
      actorId: adminId,
      organizationId: added.organizationId,
      detail: { organizationId: added.organizationId, name: expect.stringMatching(/^audited-/) },
    });
  });

  it("refusals about users that do not exist: one entry, counted, without the made-up ids", async () => {
    const viewer = await setup.member(organizationId, ["ORG_USER_VIEWER"]);
    const madeUp = ["+41791234567", "ada@example.com", "x y\u202e", ...Array.from({ length: 27 }, () => unique("made-up"))];
    const client = protocolClient("rest", server.url, viewer.token);
    for (const userId of madeUp) {
      const refused = await client.callService("InternalPermissionService", "createAdministrator", {
        userId,
        resource: { organizationId },
        roles: ["ORG_OWNER"],
      });
      expect(expectFailure(refused).code).toBe(7);
    }
    const denied = (await listEvents({ kinds: ["permission.denied"], query: { limit: 100 } })).events.filter(
      (event) => event.actorId === viewer.userId,
    );
    expect(denied).toEqual([
      expect.objectContaining({ count: madeUp.length, organizationId, detail: expect.objectContaining({ method: "InternalPermissionService/CreateAdministrator" }) }),
    ]);
    expect(denied[0]?.userId).toBeUndefined();
    const database = openLiveDatabase(join(server.dataDir, "verifyd.sqlite"), { readonly: true });
    try {
      const table = JSON.stringify(database.prepare("SELECT * FROM security_events").all());
      for (const userId of madeUp) expect(table).not.toContain(JSON.stringify(userId).slice(1, -1));
    } finally {
      database.close();
    }
  });

  it("a refusal names the organization the call named, when it names one rather than a user", async () => {
    const viewer = await setup.member(organizationId, ["ORG_USER_VIEWER"]);
    const refused = await protocolClient("rest", server.url, viewer.token).callService("VerificationSettingsService", "setVerificationSettings", {
      organizationId,
    });
    expect(expectFailure(refused).code).toBe(7);
    const [denied] = (await listEvents({ kinds: ["permission.denied"], query: { limit: 1 } })).events;
    expect(denied).toMatchObject({ actorId: viewer.userId, organizationId, detail: { method: "VerificationSettingsService/SetVerificationSettings" } });
  });
});

describe("never a secret", () => {
  it("no password, token or code of a whole flow appears anywhere in the security_events table", async () => {
    const person = await personWithPhone();
    const secrets = [server.adminToken, person.password, person.phoneCode, wrongCode, "a wrong password"];
    await passwordLogin(server.url, person.username, "a wrong password");
    const { body } = await passwordLogin(server.url, person.username, person.password);
    const loginToken = body.access_token ?? "";
    const asPerson = protocolClient("rest", server.url, loginToken);
    await asPerson.call("verifyPhone", { userId: person.userId, verificationCode: wrongCode });
    expectOk(await asPerson.call("verifyPhone", { userId: person.userId, verificationCode: person.phoneCode }));
    await asPerson.call("setPassword", { userId: person.userId, newPassword: { password: "the next password" }, currentPassword: "a wrong password" });
    expectOk(
      await asPerson.call("setPassword", { userId: person.userId, newPassword: { password: "the next password" }, currentPassword: person.password }),
    );
    // A refused call that carries secrets in its request.
    await asPerson.call("setPassword", { userId: adminId, newPassword: { password: "taking over the admin" } });
    const account = await setup.machine(organizationId);
    secrets.push(loginToken, account.token, "the next password", "taking over the admin");

    const database = openLiveDatabase(join(server.dataDir, "verifyd.sqlite"), { readonly: true });
    try {
      const table = JSON.stringify(database.prepare("SELECT * FROM security_events").all());
      expect(table).toContain(person.userId);
      for (const secret of secrets) {
        expect(secret.length).toBeGreaterThanOrEqual(8);
        expect(table.includes(secret), `a secret in the log: ${secret}`).toBe(false);
      }
    } finally {
      database.close();
    }
  });
});

describe("reading the log", () => {
  it("over every protocol, REST at POST /verifyd/v1/security_events/_search", async () => {
    for (const protocol of allProtocols) {
      const { events } = await listEvents({ userId: adminId, kinds: ["token.created"], query: { asc: true, limit: 1 } }, protocol);
      expect(events, protocol).toEqual([expect.objectContaining({ kind: "token.created", detail: expect.objectContaining({ origin: "bootstrap" }) })]);
    }
  });

  it("newest first by last occurrence: a repeat brings its entry to the top", async () => {
    const person = await personWithPhone();
    await passwordLogin(server.url, person.username, "wrong password");
    server.clock.advance(10_000);
    await passwordLogin(server.url, person.username, person.password);
    server.clock.advance(10_000);
    expect((await eventsAbout(person.userId)).map((event) => event.kind)).toEqual(["login.succeeded", "login.failed"]);

    await passwordLogin(server.url, person.username, "wrong password");
    const events = await eventsAbout(person.userId);
    expect(events.map((event) => [event.kind, event.count])).toEqual([
      ["login.failed", 2],
      ["login.succeeded", 1],
    ]);
    const [failed] = events;
    expect(Date.parse(failed?.lastOccurred ?? "") - Date.parse(failed?.firstOccurred ?? "")).toBe(20_000);
    // Oldest first when asked.
    expect((await listEvents({ userId: person.userId, query: { asc: true } })).events.map((event) => event.kind)).toEqual([
      "login.succeeded",
      "login.failed",
    ]);
  });

  it("filtered by user, by kinds, or both, with the total of all matches and pages of them", async () => {
    const person = await personWithPhone();
    const other = await personWithPhone();
    for (const { username } of [person, other]) await passwordLogin(server.url, username, "wrong password");
    await passwordLogin(server.url, person.username, person.password);

    const ofPerson = await listEvents({ userId: person.userId });
    expect({ total: ofPerson.total, users: new Set(ofPerson.events.map((event) => event.userId)) }).toEqual({
      total: 2,
      users: new Set([person.userId]),
    });
    const failedLogins = await listEvents({ kinds: ["login.failed"], query: { limit: 2 } });
    expect(failedLogins.events.map((event) => event.userId)).toEqual([other.userId, person.userId]);
    expect(failedLogins.total).toBeGreaterThan(2);
    const both = await listEvents({ userId: person.userId, kinds: ["login.succeeded", "code.failed"] });
    expect(both.events.map((event) => event.kind)).toEqual(["login.succeeded"]);
    const secondPage = await listEvents({ kinds: ["login.failed"], query: { offset: 1, limit: 1 } });
    expect(secondPage.events.map((event) => event.userId)).toEqual([person.userId]);
  });

  it("filtered by who caused the entries, or by the organization they are about", async () => {
    const elsewhere = await setup.organization();
    const viewer = await setup.member(elsewhere, ["ORG_USER_VIEWER"]);
    const person = await personWithPhone();
    const refused = await protocolClient("grpc", server.url, viewer.token).call("setPhone", { userId: person.userId, phone: uniqueMobile(), returnCode: {} });
    expect(expectFailure(refused).code).toBe(5);
    const denied = await protocolClient("grpc", server.url, viewer.token).callService("VerificationSettingsService", "setVerificationSettings", {
      organizationId: elsewhere,
    });
    expect(expectFailure(denied).code).toBe(7);

    const byViewer = await listEvents({ actorId: viewer.userId });
    expect(byViewer.events.map(({ kind, actorId, organizationId: named }) => ({ kind, actorId, named }))).toEqual([
      { kind: "permission.denied", actorId: viewer.userId, named: elsewhere },
    ]);
    const aboutElsewhere = await listEvents({ organizationId: elsewhere, kinds: ["permission.denied"] });
    expect(aboutElsewhere.events.map((event) => event.actorId)).toEqual([viewer.userId]);
    expect((await listEvents({ actorId: viewer.userId, organizationId: organizationId })).events).toEqual([]);
  });

  it("refuses a kind it does not know (InvalidArgument naming the field)", async () => {
    const answer = await protocolClient("rest", server.url, server.adminToken).callService("SecurityLogService", "listSecurityEvents", {
      kinds: ["login.failed", "login.hacked"],
    });
    expect(expectFailure(answer)).toMatchObject({ code: 3, httpStatus: 400, message: expect.stringContaining("kinds[1]") });
  });

  it("knows the same kinds the contract lists", () => {
    const rules = getOption(ListSecurityEventsRequestSchema.field.kinds, validateField);
    const items = rules.type.case === "repeated" ? rules.type.value.items : undefined;
    const allowed = items?.type.case === "string" ? items.type.value.in : undefined;
    expect(allowed).toEqual([...securityEventKinds]);
  });

  it("only for an IAM_OWNER: an ORG_OWNER is refused, and the refusal is recorded", async () => {
    const owner = await setup.member(organizationId, ["ORG_OWNER"]);
    for (const protocol of allProtocols) {
      const answer = await protocolClient(protocol, server.url, owner.token).callService("SecurityLogService", "listSecurityEvents", {});
      expect(expectFailure(answer).code, protocol).toBe(7);
    }
    expect((await listEvents({ kinds: ["permission.denied"] })).events[0]).toMatchObject({
      actorId: owner.userId,
      count: allProtocols.length,
      detail: { method: "SecurityLogService/ListSecurityEvents", permission: "security_log.read", reason: "PERMISSION_DENIED" },
    });
  });
});

describe("a flood", () => {
  it("of 1,000 identical wrong logins adds a handful of entries, which count every one", async () => {
    const person = await personWithPhone();
    const before = (await listEvents({})).total;
    // Two at a time: one client address may have 3 logins under way at the defaults.
    for (let batch = 0; batch < 500; batch++) {
      await Promise.all(Array.from({ length: 2 }, () => passwordLogin(server.url, person.username, "wrong password")));
    }
    const after = await listEvents({ query: { limit: 10 } });
    expect(after.total - before).toBeLessThanOrEqual(3);
    const flood = after.events.filter((event) => event.detail?.loginName === person.username);
    expect(flood.reduce((sum, event) => sum + event.count, 0)).toBe(1_000);
  });
});

describe("a log that cannot be written", () => {
  it("fails no call: logins, refusals, tokens and roles answer as they always do", async () => {
    const broken = await startTestServer(codeFlags);
    try {
      const database = openLiveDatabase(join(broken.dataDir, "verifyd.sqlite"));
      database.exec("DROP TABLE security_events");
      database.close();
      const brokenSetup = fixtures(broken.url, broken.adminToken);
      const organization = await brokenSetup.organization();
      const username = unique("person");
      const personId = await brokenSetup.person(organization, { username, password: "correct horse battery" });
      expect((await passwordLogin(broken.url, username, "wrong password")).status).toBe(400);
      expect((await passwordLogin(broken.url, username, "correct horse battery")).status).toBe(200);
      const viewer = await brokenSetup.member(organization, ["ORG_USER_VIEWER"]);
      await brokenSetup.admin.users.removePersonalAccessToken({ userId: viewer.userId, tokenId: viewer.tokenId });
      const refused = await protocolClient("connect-json", broken.url, (await brokenSetup.member(organization, ["ORG_USER_VIEWER"])).token).call(
        "lockUser",
        { userId: personId },
      );
      expect(expectFailure(refused).code).toBe(7);
    } finally {
      await broken.close();
    }
  });
});
