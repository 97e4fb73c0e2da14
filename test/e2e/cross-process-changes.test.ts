// What one process changes, another process on the same file applies on its very next call: a removed token, a
// removed role or a deactivated holder is refused at once, and an organization's new limits apply at once. Whatever a
// process may keep in memory to go faster (a token it found, settings it read) must keep this true. Two real processes.
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { api, failure, fixtures, uniqueMobile } from "../helpers/api-session.js";
import { expectFailure, expectOk, protocolClient } from "../helpers/protocol-clients.js";
import { serverProcessDirectories, startServerProcess } from "../helpers/server-process.js";

const tempDirectory = serverProcessDirectories("verifyd-cross-process-");
const profile = { givenName: "Ada", familyName: "Lovelace" };
/**
 * Two processes on one new file, `changing` and `remembering`; an organization with a person in it, and a user manager
 * of it whose token `remembering` has just accepted.
 */
async function rememberedManager() {
  const database = join(tempDirectory(), "verifyd.sqlite");
  const changing = await startServerProcess(database);
  const remembering = await startServerProcess(database);
  const setup = fixtures(changing.url, changing.adminToken);
  const organizationId = await setup.organization();
  const personId = await setup.person(organizationId);
  const manager = await setup.member(organizationId, ["ORG_USER_MANAGER"]);
  const asManager = api(remembering.url, manager.token);
  const read = () => asManager.users.getUserByID({ userId: personId });
  expect((await read()).user?.userId).toBe(personId);
  return { changing, remembering, organizationId, manager, read, admin: setup.admin };
}

describe("a change through one process reaches the other's next call", () => {
  it("a removed token is refused", async () => {
    const { manager, read, admin } = await rememberedManager();
    await admin.users.removePersonalAccessToken({ userId: manager.userId, tokenId: manager.tokenId });
    expect(await failure(read())).toMatchObject({ code: 16 });
  });

  it("a removed role no longer grants", async () => {
    const { organizationId, manager, read, admin } = await rememberedManager();
    await admin.admins.deleteAdministrator({ userId: manager.userId, resource: { resource: { case: "organizationId", value: organizationId } } });
    // Without a role in the organization, its users are not there for the caller.
    expect(await failure(read())).toMatchObject({ code: 5 });
  });

  it("a deactivated holder's token is refused", async () => {
    const { manager, read, admin } = await rememberedManager();
    await admin.users.deactivateUser({ userId: manager.userId });
    expect((await failure(read())).code).toBe(16);
  });

  it("an organization's new limits apply", async () => {
    const { changing, remembering, organizationId, manager } = await rememberedManager();
    const asManager = protocolClient("connect-h2", remembering.url, manager.token);
    const addWithPhone = (phone: string) => asManager.call("addHumanUser", { profile, organization: { orgId: organizationId }, phone: { phone, sendCode: {} } });
    // `remembering` reads the organization's settings (the defaults: five sends to a number in ten minutes)...
    expectOk(await addWithPhone(uniqueMobile()));
    // ...then `changing` allows one.
    const asAdmin = protocolClient("connect-h2", changing.url, changing.adminToken);
    expectOk(await asAdmin.callService("VerificationSettingsService", "setVerificationSettings", { organizationId, limits: { sendsPerDestination10m: 1 } }));
    const phone = uniqueMobile();
    expectOk(await addWithPhone(phone));
    expect(expectFailure(await addWithPhone(phone)).errorInfo?.metadata.limit).toBe("sends_per_destination_10m");
  });
});
