// InternalPermissionService as its callers see it: roles granted, changed and revoked on the instance or an
// organization, taking effect on the grantee's next call; the instance always keeps an IAM_OWNER; listing with
// ZITADEL's filters; over Connect, gRPC, gRPC-Web and REST (/v2beta/administrators).
import type { MessageInitShape } from "@bufbuild/protobuf";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TextFilterMethod } from "../../src/gen/zitadel/filter/v2beta/filter_pb.js";
import { AdministratorFieldName, type AdministratorSearchFilterSchema } from "../../src/gen/zitadel/internal_permission/v2beta/query_pb.js";
import { api, failure, fixtures, rest, rpcProtocols, unique } from "../helpers/api-session.js";
import { type TestServer, startTestServer } from "../helpers/test-server.js";

let server: TestServer;
let setup: ReturnType<typeof fixtures>;
let organization: string;
let adminUserId: string;

beforeAll(async () => {
  server = await startTestServer();
  setup = fixtures(server.url, server.adminToken);
  organization = await setup.organization();
  const { result } = await setup.admin.users.listUsers({ queries: [{ query: { case: "userNameQuery", value: { userName: "admin" } } }] });
  adminUserId = result[0]?.userId as string;
});
afterAll(async () => {
  await server?.close();
});

type Filter = MessageInitShape<typeof AdministratorSearchFilterSchema>;
const onOrg = (id: string) => ({ resource: { case: "organizationId" as const, value: id } });
const onInstance = { resource: { case: "instance" as const, value: true } };

/** Whether this token may read the user (0) or the code it gets. */
async function readCode(token: string, userId: string): Promise<number> {
  try {
    await api(server.url, token, "grpc").users.getUserByID({ userId });
    return 0;
  } catch (error) {
    return (await failure(Promise.reject(error))).code;
  }
}

describe("CreateAdministrator", () => {
  it.each(rpcProtocols)("over %s: grants a role that works on the grantee's next call; a second grant is AlreadyExists", async (protocol) => {
    const { admins } = api(server.url, server.adminToken, protocol);
    const person = await setup.person(organization);
    const account = await setup.machine(await setup.organization());
    expect(await readCode(account.token, person)).toBe(5);
    const created = await admins.createAdministrator({ userId: account.userId, ...{ resource: onOrg(organization) }, roles: ["ORG_USER_VIEWER"] });
    expect(created.creationDate).toBeDefined();
    expect(await readCode(account.token, person)).toBe(0);
    expect(
      await failure(admins.createAdministrator({ userId: account.userId, resource: onOrg(organization), roles: ["ORG_OWNER"] })),
    ).toMatchObject({ code: 6, reason: "ADMINISTRATOR_ALREADY_EXISTS" });
  });

  it("over REST: POST /v2beta/administrators, 409 for a duplicate", async () => {
    const account = await setup.machine(organization);
    const body = { userId: account.userId, resource: { organizationId: organization }, roles: ["ORG_USER_MANAGER"] };
    expect((await rest(server.url, server.adminToken, "POST", "/v2beta/administrators", body)).status).toBe(200);
    expect(await rest(server.url, server.adminToken, "POST", "/v2beta/administrators", body)).toMatchObject({
      status: 409,
      reason: "ADMINISTRATOR_ALREADY_EXISTS",
    });
  });

  it("validates roles per resource: IAM_OWNER only on the instance, organization roles only on organizations", async () => {
    const account = await setup.machine(organization);
    for (const protocol of ["connect", "grpc"] as const) {
      const { admins } = api(server.url, server.adminToken, protocol);
      expect(await failure(admins.createAdministrator({ userId: account.userId, resource: onOrg(organization), roles: ["IAM_OWNER"] }))).toMatchObject({
        code: 3,
        reason: "ROLE_INVALID",
      });
      expect(await failure(admins.createAdministrator({ userId: account.userId, resource: onInstance, roles: ["ORG_OWNER"] }))).toMatchObject({
        code: 3,
        reason: "ROLE_INVALID",
      });
      expect(
        await failure(admins.createAdministrator({ userId: account.userId, resource: onOrg(organization), roles: ["ORG_VIEWER_OF_EVERYTHING"] })),
      ).toMatchObject({ code: 3, reason: "ROLE_INVALID" });
    }
    const viaRest = await rest(server.url, server.adminToken, "POST", "/v2beta/administrators", {
      userId: account.userId,
      resource: { instance: true },
      roles: ["ORG_USER_VIEWER"],
    });
    expect(viaRest).toMatchObject({ status: 400, reason: "ROLE_INVALID" });
  });

  it("refuses an organization that does not exist (NotFound), even to the IAM_OWNER", async () => {
    const account = await setup.machine(organization);
    for (const protocol of ["connect", "grpc"] as const) {
      const refused = await failure(
        api(server.url, server.adminToken, protocol).admins.createAdministrator({ userId: account.userId, resource: onOrg("no-such-org"), roles: ["ORG_OWNER"] }),
      );
      expect(refused).toMatchObject({ code: 5, reason: "ORGANIZATION_NOT_FOUND" });
    }
    const viaRest = await rest(server.url, server.adminToken, "POST", "/v2beta/administrators", {
      userId: account.userId,
      resource: { organizationId: "no-such-org" },
      roles: ["ORG_OWNER"],
    });
    expect(viaRest).toMatchObject({ status: 404, reason: "ORGANIZATION_NOT_FOUND" });
    const { administrators } = await setup.admin.admins.listAdministrators({ filters: [{ filter: { case: "inUserIdsFilter", value: { ids: [account.userId] } } }] });
    expect(administrators).toEqual([]);
  });

  it("refuses a user that does not exist, and a project resource as Unimplemented", async () => {
    const { admins } = api(server.url, server.adminToken, "grpc");
    expect(await failure(admins.createAdministrator({ userId: "no-such-user", resource: onOrg(organization), roles: ["ORG_OWNER"] }))).toMatchObject({
      code: 5,
      reason: "USER_NOT_FOUND",
    });
    const account = await setup.machine(organization);
    const project = await failure(
      admins.createAdministrator({ userId: account.userId, resource: { resource: { case: "projectId", value: "p1" } }, roles: ["PROJECT_OWNER"] }),
    );
    expect(project.code).toBe(12);
    expect(project.message).toContain("project_id");
  });

  it("an ORG_OWNER grants roles on its organization, cannot grant IAM_OWNER nor act on another organization", async () => {
    const owner = await setup.member(organization, ["ORG_OWNER"]);
    const other = await setup.organization();
    const account = await setup.machine(organization);
    const { admins } = api(server.url, owner.token, "grpc-web");

    expect(await failure(admins.createAdministrator({ userId: account.userId, resource: onInstance, roles: ["IAM_OWNER"] }))).toMatchObject({
      code: 7,
      reason: "PERMISSION_DENIED",
    });
    expect(await failure(admins.createAdministrator({ userId: account.userId, resource: onOrg(other), roles: ["ORG_OWNER"] }))).toMatchObject({
      code: 5,
    });
    await admins.createAdministrator({ userId: account.userId, resource: onOrg(organization), roles: ["ORG_USER_MANAGER"] });
    // A user of another organization stays invisible to it.
    const stranger = await setup.machine(other);
    expect(await failure(admins.createAdministrator({ userId: stranger.userId, resource: onOrg(organization), roles: ["ORG_USER_VIEWER"] }))).toMatchObject({
      code: 5,
      reason: "USER_NOT_FOUND",
    });
    // A manager (no member.write) may not grant anything.
    const manager = await setup.member(organization, ["ORG_USER_MANAGER"]);
    const refused = await failure(
      api(server.url, manager.token, "grpc").admins.createAdministrator({ userId: owner.userId, resource: onOrg(organization), roles: ["ORG_USER_VIEWER"] }),
    );
    expect(refused).toMatchObject({ code: 7, reason: "PERMISSION_DENIED" });
  });
});

describe("UpdateAdministrator and DeleteAdministrator", () => {
  it.each(rpcProtocols)("over %s: narrowing a role and revoking it change what the user may do on its next call", async (protocol) => {
    const { admins } = api(server.url, server.adminToken, protocol);
    const person = await setup.person(organization);
    const account = await setup.member(organization, ["ORG_USER_MANAGER"], await setup.organization());
    const lock = () => api(server.url, account.token, "connect").users.lockUser({ userId: person });

    await lock();
    await setup.admin.users.unlockUser({ userId: person });
    const updated = await admins.updateAdministrator({ userId: account.userId, resource: onOrg(organization), roles: ["ORG_USER_VIEWER"] });
    expect(updated.changeDate).toBeDefined();
    expect(await failure(lock())).toMatchObject({ code: 7, reason: "PERMISSION_DENIED" });
    expect(await readCode(account.token, person)).toBe(0);

    const deleted = await admins.deleteAdministrator({ userId: account.userId, resource: onOrg(organization) });
    expect(deleted.deletionDate).toBeDefined();
    expect(await readCode(account.token, person)).toBe(5);
    expect(await failure(admins.deleteAdministrator({ userId: account.userId, resource: onOrg(organization) }))).toMatchObject({
      code: 5,
      reason: "ADMINISTRATOR_NOT_FOUND",
    });
    expect(
      await failure(admins.updateAdministrator({ userId: account.userId, resource: onOrg(organization), roles: ["ORG_OWNER"] })),
    ).toMatchObject({ code: 5, reason: "ADMINISTRATOR_NOT_FOUND" });
  });

  it("over REST: POST /v2beta/administrators/{user_id} updates", async () => {
    const person = await setup.person(organization);
    const account = await setup.member(organization, ["ORG_USER_VIEWER"], await setup.organization());
    const updated = await rest(server.url, server.adminToken, "POST", `/v2beta/administrators/${account.userId}`, {
      resource: { organizationId: organization },
      roles: ["ORG_USER_MANAGER"],
    });
    expect(updated.status).toBe(200);
    await api(server.url, account.token, "grpc").users.lockUser({ userId: person });
  });

  it("over REST: DELETE /v2beta/administrators/{user_id} with the resource in query parameters, as grpc-gateway maps it", async () => {
    const person = await setup.person(organization);
    for (const parameter of ["resource.organizationId", "resource.organization_id"]) {
      const account = await setup.member(organization, ["ORG_USER_VIEWER"], await setup.organization());
      expect(await readCode(account.token, person)).toBe(0);
      const deleted = await rest(
        server.url,
        server.adminToken,
        "DELETE",
        `/v2beta/administrators/${account.userId}?${parameter}=${encodeURIComponent(organization)}`,
      );
      expect(deleted.status).toBe(200);
      expect(deleted.body.deletionDate).toBeDefined();
      expect(await readCode(account.token, person)).toBe(5);
    }
    // The instance resource: resource.instance=true.
    const instanceAdmin = await setup.member("", ["IAM_OWNER"], organization);
    const deleted = await rest(server.url, server.adminToken, "DELETE", `/v2beta/administrators/${instanceAdmin.userId}?resource.instance=true`);
    expect(deleted.status).toBe(200);
    expect(await readCode(instanceAdmin.token, person)).toBe(5);
    // Without a resource the request is invalid.
    const noResource = await rest(server.url, server.adminToken, "DELETE", `/v2beta/administrators/${instanceAdmin.userId}`);
    expect(noResource.status).toBe(400);
  });

  it("over REST: refuses two members of the resource oneof in one DELETE, and deletes nothing", async () => {
    const person = await setup.person(organization);
    const account = await setup.member(organization, ["ORG_USER_VIEWER"], await setup.organization());
    const both = await rest(
      server.url,
      server.adminToken,
      "DELETE",
      `/v2beta/administrators/${account.userId}?resource.instance=true&resource.organizationId=${encodeURIComponent(organization)}`,
    );
    expect(both.status).toBe(400);
    expect(both.body.message).toBe('invalid parameter "resource.organizationId": "resource.instance" already sets oneof "resource"');
    expect(await readCode(account.token, person)).toBe(0);
  });

  it("keeps an IAM_OWNER: removing or narrowing the last one is LAST_INSTANCE_OWNER; with a second one it works", async () => {
    for (const protocol of ["connect", "grpc"] as const) {
      const { admins } = api(server.url, server.adminToken, protocol);
      expect(await failure(admins.deleteAdministrator({ userId: adminUserId, resource: onInstance }))).toMatchObject({
        code: 9,
        reason: "LAST_INSTANCE_OWNER",
      });
    }
    const viaRest = await rest(server.url, server.adminToken, "DELETE", `/v2beta/administrators/${adminUserId}?resource.instance=true`);
    expect(viaRest).toMatchObject({ status: 400, reason: "LAST_INSTANCE_OWNER" });
    // Narrowing: IAM_OWNER is the only role the instance has, so any other role set is ROLE_INVALID first.
    expect(
      await failure(api(server.url, server.adminToken, "grpc-web").admins.updateAdministrator({ userId: adminUserId, resource: onInstance, roles: ["ORG_OWNER"] })),
    ).toMatchObject({ code: 3, reason: "ROLE_INVALID" });

    // With a second IAM_OWNER, the first may go; the second is then the last.
    const second = await setup.member("", ["IAM_OWNER"], organization);
    const other = api(server.url, second.token, "grpc");
    const backup = await setup.member("", ["IAM_OWNER"], organization);
    await other.admins.deleteAdministrator({ userId: backup.userId, resource: onInstance });
    expect(await failure(api(server.url, backup.token, "grpc").orgs.addOrganization({ name: unique("Backup's") }))).toMatchObject({ code: 7 });
    // The bootstrap administrator still holds its role: the second cannot remove itself while... it is not the last.
    await other.admins.deleteAdministrator({ userId: second.userId, resource: onInstance });
    expect(await failure(other.orgs.addOrganization({ name: unique("Second's") }))).toMatchObject({ code: 7 });
    expect(await failure(api(server.url, server.adminToken).admins.deleteAdministrator({ userId: adminUserId, resource: onInstance }))).toMatchObject({
      reason: "LAST_INSTANCE_OWNER",
    });
  });

  it("an ORG_OWNER cannot touch instance administrators", async () => {
    const owner = await setup.member(organization, ["ORG_OWNER"]);
    const { admins } = api(server.url, owner.token, "grpc");
    expect(await failure(admins.deleteAdministrator({ userId: adminUserId, resource: onInstance }))).toMatchObject({ code: 7 });
    expect(await failure(admins.updateAdministrator({ userId: owner.userId, resource: onOrg(organization), roles: ["IAM_OWNER"] }))).toMatchObject({
      code: 3,
      reason: "ROLE_INVALID",
    });
  });
});

describe("ListAdministrators", () => {
  let listOrg: string;
  let owner: { userId: string; token: string };
  let viewer: { userId: string; token: string };
  let manager: { userId: string; token: string };
  let elsewhere: { userId: string; token: string };

  beforeAll(async () => {
    listOrg = await setup.organization();
    owner = await setup.member(listOrg, ["ORG_OWNER"], listOrg);
    server.clock.advance(1000);
    viewer = await setup.member(listOrg, ["ORG_USER_VIEWER"], listOrg);
    server.clock.advance(1000);
    manager = await setup.member(listOrg, ["ORG_USER_MANAGER"], organization);
    server.clock.advance(1000);
    elsewhere = await setup.member(await setup.organization(), ["ORG_OWNER"]);
  });

  const inOrg: () => Filter = () => ({ filter: { case: "resource", value: { resource: { case: "organizationId", value: listOrg } } } });
  const userIds = (ids: string[]): Filter => ({ filter: { case: "inUserIdsFilter", value: { ids } } });
  const role = (roleKey: string): Filter => ({ filter: { case: "role", value: { roleKey } } });

  const list = async (filters: Filter[], token = server.adminToken, protocol: (typeof rpcProtocols)[number] = "connect") => {
    const answer = await api(server.url, token, protocol).admins.listAdministrators({
      filters,
      pagination: { asc: true },
      sortingColumn: AdministratorFieldName.CREATION_DATE,
    });
    return answer.administrators.map((admin) => admin.user?.id);
  };

  it.each(rpcProtocols)("filters by resource, role and user ids over %s", async (protocol) => {
    expect(await list([inOrg()], server.adminToken, protocol)).toEqual([owner.userId, viewer.userId, manager.userId]);
    expect(await list([inOrg(), role("ORG_USER_MANAGER")], server.adminToken, protocol)).toEqual([manager.userId]);
    expect(await list([userIds([viewer.userId, elsewhere.userId])], server.adminToken, protocol)).toEqual([viewer.userId, elsewhere.userId]);
    expect(await list([{ filter: { case: "resource", value: { resource: { case: "instance", value: true } } } }], server.adminToken, protocol)).toContain(
      adminUserId,
    );
  });

  it("and, or and not nest", async () => {
    const or = (...queries: Filter[]): Filter => ({ filter: { case: "or", value: { queries } } });
    const and = (...queries: Filter[]): Filter => ({ filter: { case: "and", value: { queries } } });
    const not = (query: Filter): Filter => ({ filter: { case: "not", value: { query } } });
    expect(await list([inOrg(), or(role("ORG_OWNER"), role("ORG_USER_VIEWER"))])).toEqual([owner.userId, viewer.userId]);
    expect(await list([inOrg(), not(role("ORG_OWNER"))])).toEqual([viewer.userId, manager.userId]);
    expect(await list([and(inOrg(), not(or(role("ORG_OWNER"), userIds([manager.userId]))))])).toEqual([viewer.userId]);
    expect(await list([inOrg(), { filter: { case: "userOrganizationId", value: { id: listOrg } } }])).toEqual([owner.userId, viewer.userId]);
    const { user } = await setup.admin.users.getUserByID({ userId: manager.userId });
    const loginName = user?.username as string;
    expect(
      await list([inOrg(), { filter: { case: "userPreferredLoginName", value: { preferredLoginName: loginName.toUpperCase(), method: TextFilterMethod.EQUALS_IGNORE_CASE } } }]),
    ).toEqual([manager.userId]);
  });

  it("answers each administrator with its user, resource and roles", async () => {
    const { administrators, pagination } = await api(server.url, server.adminToken, "grpc").admins.listAdministrators({
      filters: [inOrg(), userIds([owner.userId])],
    });
    expect(pagination?.totalResult).toBe(1n);
    expect(administrators[0]).toMatchObject({
      user: { id: owner.userId, organizationId: listOrg },
      resource: { case: "organization", value: { id: listOrg } },
      roles: ["ORG_OWNER"],
    });
  });

  it("pages and sorts", async () => {
    const { admins } = api(server.url, server.adminToken, "grpc-web");
    const page = await admins.listAdministrators({ filters: [inOrg()], pagination: { offset: 1n, limit: 1, asc: true } });
    expect(page.pagination?.totalResult).toBe(3n);
    expect(page.administrators.map((admin) => admin.user?.id)).toEqual([viewer.userId]);
    const newest = await admins.listAdministrators({ filters: [inOrg()], pagination: { asc: false } });
    expect(newest.administrators.map((admin) => admin.user?.id)).toEqual([manager.userId, viewer.userId, owner.userId]);
  });

  it("over REST: POST /v2beta/administrators/search", async () => {
    const answer = await rest(server.url, server.adminToken, "POST", "/v2beta/administrators/search", {
      filters: [{ resource: { organizationId: listOrg } }, { role: { roleKey: "ORG_USER_VIEWER" } }],
    });
    expect(answer.status).toBe(200);
    expect(answer.body.pagination.totalResult).toBe("1");
    expect(answer.body.administrators).toMatchObject([{ user: { id: viewer.userId }, organization: { id: listOrg }, roles: ["ORG_USER_VIEWER"] }]);
  });

  it("an ORG_OWNER sees its organization's administrators only; asking for another resource is refused", async () => {
    for (const protocol of ["connect", "grpc"] as const) {
      expect(await list([], owner.token, protocol)).toEqual([owner.userId, viewer.userId, manager.userId]);
    }
    expect((await failure(api(server.url, owner.token).admins.listAdministrators({ filters: [{ filter: { case: "resource", value: { resource: { case: "instance", value: true } } } }] }))).code).toBe(7);
    expect((await failure(api(server.url, owner.token).admins.listAdministrators({ filters: [{ filter: { case: "resource", value: { resource: { case: "organizationId", value: organization } } } }] }))).code).toBe(5);
    // A viewer (no member.read) sees none, even of its own organization.
    expect(await list([], viewer.token)).toEqual([]);
    const refused = await rest(server.url, viewer.token, "POST", "/v2beta/administrators/search", { filters: [{ resource: { organizationId: listOrg } }] });
    expect(refused.status).toBe(403);
  });

  it.each(rpcProtocols)("refuses filters with no kind, nested too, as InvalidArgument over %s, not as an internal error", async (protocol) => {
    const { admins } = api(server.url, server.adminToken, protocol);
    expect((await failure(admins.listAdministrators({ filters: [{ filter: { case: "or", value: { queries: [{}] } } }] }))).code).toBe(3);
    expect((await failure(admins.listAdministrators({ filters: [{ filter: { case: "not", value: {} } }] }))).code).toBe(3);
    expect((await failure(admins.listAdministrators({ filters: [{ filter: { case: "and", value: { queries: [{ filter: { case: "not", value: {} } }] } } }] }))).code).toBe(3);
    expect((await failure(admins.listAdministrators({ filters: [{ filter: { case: "resource", value: {} } }] }))).code).toBe(3);
  });

  it("refuses a nested project resource filter as Unimplemented", async () => {
    const refused = await failure(
      api(server.url, server.adminToken).admins.listAdministrators({
        filters: [{ filter: { case: "or", value: { queries: [{ filter: { case: "resource", value: { resource: { case: "projectId", value: "p" } } } }] } } }],
      }),
    );
    expect(refused.code).toBe(12);
    expect(refused.message).toContain("project_id");
  });
});
