// Changing another user hands its roles to whoever does it: its password (log in as it), its status (shut it out),
// its tokens (act as it). So a caller may change another user only if it could grant every role that user holds.
// Each attack here worked before: a manager reset an IAM_OWNER's password and created organizations with it, and an
// ORG_OWNER minted a token for a service account that owned another organization.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { api, failure, fixtures, passwordLogin, rpcProtocols, unique } from "../helpers/api-session.js";
import { type TestServer, startTestServer } from "../helpers/test-server.js";

let server: TestServer;
let setup: ReturnType<typeof fixtures>;
let organization: string;
let elsewhere: string;

beforeAll(async () => {
  server = await startTestServer();
  setup = fixtures(server.url, server.adminToken);
  organization = await setup.organization();
  elsewhere = await setup.organization();
});
afterAll(async () => {
  await server?.close();
});

const memberWriteDenied = { code: 7, reason: "PERMISSION_DENIED" };

/** A person of `organization` holding `roles` on `resource` ("" for the instance), with a password. */
async function privilegedPerson(resource: string, roles: string[]) {
  const password = "a long enough password";
  const username = unique("boss");
  const userId = await setup.person(organization, { username, password });
  await setup.admin.admins.createAdministrator({
    userId,
    resource: { resource: resource === "" ? { case: "instance", value: true } : { case: "organizationId", value: resource } },
    roles,
  });
  return { userId, username, password };
}

describe("a manager cannot take over users who hold roles it cannot grant", () => {
  it.each(rpcProtocols)("over %s: not an IAM_OWNER's password, status or contacts", async (protocol) => {
    const boss = await privilegedPerson("", ["IAM_OWNER"]);
    const manager = await setup.member(organization, ["ORG_USER_MANAGER"]);
    const { users } = api(server.url, manager.token, protocol);

    expect(await failure(users.setPassword({ userId: boss.userId, newPassword: { password: "taken over, at last" } }))).toMatchObject(
      memberWriteDenied,
    );
    expect(await failure(users.lockUser({ userId: boss.userId }))).toMatchObject(memberWriteDenied);
    expect(await failure(users.deactivateUser({ userId: boss.userId }))).toMatchObject(memberWriteDenied);
    expect(
      await failure(users.setEmail({ userId: boss.userId, email: "attacker@example.com", verification: { case: "isVerified", value: true } })),
    ).toMatchObject(memberWriteDenied);
    // The boss's own password still logs in; the manager's does not.
    expect((await passwordLogin(server.url, boss.username, boss.password)).status).toBe(200);
    expect((await passwordLogin(server.url, boss.username, "taken over, at last")).status).toBe(400);
    // Reading stays allowed: user.read is not a takeover.
    expect((await users.getUserByID({ userId: boss.userId })).user?.userId).toBe(boss.userId);
  });

  it("nor one who owns another organization; an ORG_OWNER of both may", async () => {
    const otherOwner = await privilegedPerson(elsewhere, ["ORG_OWNER"]);
    const manager = await setup.member(organization, ["ORG_USER_MANAGER"]);
    expect(await failure(api(server.url, manager.token, "grpc").users.lockUser({ userId: otherOwner.userId }))).toMatchObject(memberWriteDenied);

    const ownerOfBoth = await setup.member(organization, ["ORG_OWNER"]);
    await setup.admin.admins.createAdministrator({
      userId: ownerOfBoth.userId,
      resource: { resource: { case: "organizationId", value: elsewhere } },
      roles: ["ORG_OWNER"],
    });
    await api(server.url, ownerOfBoth.token, "grpc").users.lockUser({ userId: otherOwner.userId });
  });

  it("a user without roles stays the manager's to manage", async () => {
    const plain = await setup.person(organization, { password: "a long enough password" });
    const manager = await setup.member(organization, ["ORG_USER_MANAGER"]);
    const { users } = api(server.url, manager.token, "connect");
    await users.setPassword({ userId: plain, newPassword: { password: "reset by the manager" } });
    await users.lockUser({ userId: plain });
    await users.unlockUser({ userId: plain });
  });
});

describe("an ORG_OWNER mints tokens only for service accounts whose every role it could grant", () => {
  it.each(rpcProtocols)("over %s: not for one that owns another organization", async (protocol) => {
    const owner = await setup.member(organization, ["ORG_OWNER"]);
    const ownsElsewhere = await setup.member(elsewhere, ["ORG_OWNER"], organization);
    const { users } = api(server.url, owner.token, protocol);
    expect(await failure(users.addPersonalAccessToken({ userId: ownsElsewhere.userId }))).toMatchObject(memberWriteDenied);
    expect(await failure(users.removePersonalAccessToken({ userId: ownsElsewhere.userId, tokenId: ownsElsewhere.tokenId }))).toMatchObject(
      memberWriteDenied,
    );
    // A service account with roles only where the owner may grant them is the owner's to equip.
    const viewer = await setup.member(organization, ["ORG_USER_VIEWER"]);
    expect((await users.addPersonalAccessToken({ userId: viewer.userId })).token).toMatch(/^[\w-]{43}$/);
  });
});

describe("nobody learns which user ids exist in organizations it cannot see", () => {
  // Before: choosing the id of a user of another organization answered USER_ALREADY_EXISTS, a free id succeeded.
  it.each(rpcProtocols)("over %s: only an IAM_OWNER chooses a new user's id", async (protocol) => {
    const foreign = await setup.person(elsewhere);
    const manager = await setup.member(organization, ["ORG_USER_MANAGER"]);
    const { users } = api(server.url, manager.token, protocol);
    const choiceDenied = { code: 7, reason: "USER_ID_CHOICE_DENIED" };
    const human = (userId: string) => ({
      userId,
      organization: { org: { case: "orgId" as const, value: organization } },
      profile: { givenName: "Eve", familyName: "Prober" },
      email: { email: `${unique("eve")}@example.com` },
    });
    expect(await failure(users.addHumanUser(human(foreign)))).toMatchObject(choiceDenied);
    expect(await failure(users.addHumanUser(human(unique("free-id"))))).toMatchObject(choiceDenied);
    const machine = (userId: string) => ({ organizationId: organization, userId, userType: { case: "machine" as const, value: { name: "Probe" } } });
    expect(await failure(users.createUser(machine(foreign)))).toMatchObject(choiceDenied);
    expect(await failure(users.createUser(machine(unique("free-id"))))).toMatchObject(choiceDenied);
    // Without a chosen id the manager creates users as before.
    expect((await users.createUser({ organizationId: organization, userType: { case: "machine", value: { name: "Fine" } } })).id).toMatch(/^\d+$/);
  });
});

describe("a stolen login token does not turn into the password", () => {
  // Before: SetPassword checked any number of guessed current passwords; the 13th, right one, succeeded.
  // A name with capitals had a budget for SetPassword and another for its logins (a white-box review's finding).
  it.each(["carol", "Carol"])("guessing the current password through SetPassword is throttled like logins, under the same budget: %s", async (name) => {
    const username = unique(name);
    const password = "carol's own password";
    const userId = await setup.person(organization, { username, password });
    const login = await passwordLogin(server.url, username, password);
    const { users } = api(server.url, login.body.access_token as string, "grpc");
    const change = (current: string) =>
      users.setPassword({ userId, newPassword: { password: "chosen by the thief" }, verification: { case: "currentPassword", value: current } });

    for (let guess = 1; guess <= 5; guess++) expect(await failure(change(`guess ${guess}`))).toMatchObject({ code: 3, reason: "PASSWORD_INVALID" });
    const throttled = await failure(change(password));
    expect(throttled).toMatchObject({ code: 8, reason: "PASSWORD_CHECKS_THROTTLED" });
    // The logins of that username wait too: one budget for guessing one password.
    expect((await passwordLogin(server.url, username, password)).status).toBe(429);

    server.clock.advance(2_000);
    await change(password);
    expect((await passwordLogin(server.url, username, "chosen by the thief")).status).toBe(200);
  });
});

describe("another organization cannot stop a person from logging in", () => {
  // Names and verified addresses are unique per organization only: a homonym elsewhere makes an unscoped login name
  // ambiguous, and an ambiguous name logs in nobody. A login that names its organization cannot be disturbed.
  it("a login with organization_id finds the person despite homonyms elsewhere, and is throttled apart", async () => {
    const username = unique("bobby");
    const password = "bobby's own password";
    const email = `${username}@example.com`;
    const victim = await setup.person(organization, { username, password });
    // Another organization's manager creates a homonym and claims the victim's address as verified.
    const attacker = await setup.member(elsewhere, ["ORG_USER_MANAGER"]);
    await api(server.url, attacker.token, "grpc").users.addHumanUser({
      username,
      organization: { org: { case: "orgId", value: elsewhere } },
      profile: { givenName: "Homo", familyName: "Nym" },
      email: { email, verification: { case: "isVerified", value: true } },
      passwordType: { case: "password", value: { password: "the attacker's password" } },
    });
    expect((await passwordLogin(server.url, username, password)).status).toBe(400);
    for (let attempt = 0; attempt < 6; attempt++) await passwordLogin(server.url, username, "wrong");
    expect((await passwordLogin(server.url, username, password)).status).toBe(429);

    const scoped = async (name: string, encoding: "form" | "json") => {
      const parameters = { grant_type: "password", username: name, password, organization_id: organization };
      const response = await fetch(`${server.url}/oauth2/token`, {
        method: "POST",
        ...(encoding === "form"
          ? { body: new URLSearchParams(parameters) }
          : { headers: { "content-type": "application/json" }, body: JSON.stringify(parameters) }),
      });
      return { status: response.status, body: (await response.json()) as { id?: string } };
    };
    expect(await scoped(username, "form")).toMatchObject({ status: 200, body: { id: victim } });
    expect(await scoped(email, "json")).toMatchObject({ status: 200, body: { id: victim } });
  });
});
