// OrganizationService as its callers see it: the instance owner adds organizations, everyone lists the ones it is a
// member of, with ZITADEL's queries, paging and sorting, over Connect, gRPC, gRPC-Web and REST.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TextQueryMethod } from "../../src/gen/zitadel/object/v2/object_pb.js";
import { OrganizationState } from "../../src/gen/zitadel/org/v2/org_pb.js";
import { OrganizationFieldName } from "../../src/gen/zitadel/org/v2/query_pb.js";
import type { MessageInitShape } from "@bufbuild/protobuf";
import type { SearchQuerySchema } from "../../src/gen/zitadel/org/v2/query_pb.js";
import { api, failure, fixtures, rest, rpcProtocols, unique } from "../helpers/api-session.js";
import { type TestServer, startTestServer } from "../helpers/test-server.js";

let server: TestServer;
let setup: ReturnType<typeof fixtures>;
// A prefix only this file's organizations carry, so the queries below see a known set.
const prefix = `Acme-${process.pid}`;
let alpha: string;
let beta: string;
let gamma: string;

beforeAll(async () => {
  server = await startTestServer();
  setup = fixtures(server.url, server.adminToken);
  // Added in this order; names sort gamma < alpha < beta only by name, never by creation.
  gamma = await setup.organization(`${prefix} Alpha Gamma`);
  server.clock.advance(1000);
  alpha = await setup.organization(`${prefix} Beta Alpha`);
  server.clock.advance(1000);
  beta = await setup.organization(`${prefix} Zeta`);
});
afterAll(async () => {
  await server?.close();
});

type Query = MessageInitShape<typeof SearchQuerySchema>;
const nameQuery = (name: string, method: TextQueryMethod): Query => ({ query: { case: "nameQuery", value: { name, method } } });

describe("AddOrganization", () => {
  it.each(rpcProtocols)("adds an organization with a name over %s, and refuses a name taken (AlreadyExists)", async (protocol) => {
    const { orgs } = api(server.url, server.adminToken, protocol);
    const name = unique(`Org ${protocol}`);
    const added = await orgs.addOrganization({ name });
    expect(added.organizationId).not.toBe("");
    expect(added.createdAdmins).toEqual([]);
    const { result } = await orgs.listOrganizations({ queries: [{ query: { case: "idQuery", value: { id: added.organizationId } } }] });
    expect(result.map((org) => [org.id, org.name, org.state])).toEqual([[added.organizationId, name, OrganizationState.ACTIVE]]);

    expect(await failure(orgs.addOrganization({ name }))).toMatchObject({ code: 6, reason: "ORGANIZATION_ALREADY_EXISTS" });
  });

  it("over REST: POST /v2/organizations, 409 for a name taken, and the chosen org_id honoured", async () => {
    const name = unique("Rest Org");
    const orgId = unique("my-org-id");
    const added = await rest(server.url, server.adminToken, "POST", "/v2/organizations", { name, orgId });
    expect(added).toMatchObject({ status: 200, body: { organizationId: orgId } });
    const again = await rest(server.url, server.adminToken, "POST", "/v2/organizations", { name });
    expect(again).toMatchObject({ status: 409, reason: "ORGANIZATION_ALREADY_EXISTS" });

    const listed = await rest(server.url, server.adminToken, "POST", "/v2/organizations/_search", {
      queries: [{ idQuery: { id: orgId } }],
    });
    expect(listed.status).toBe(200);
    expect(listed.body.result).toMatchObject([{ id: orgId, name, state: "ORGANIZATION_STATE_ACTIVE" }]);
  });

  it("honours a chosen org_id over gRPC, and refuses the same id again", async () => {
    const { orgs } = api(server.url, server.adminToken, "grpc");
    const orgId = unique("chosen");
    expect((await orgs.addOrganization({ name: unique("Chosen"), orgId })).organizationId).toBe(orgId);
    const taken = await failure(orgs.addOrganization({ name: unique("Chosen again"), orgId }));
    expect(taken.code).toBe(6);
  });

  it.each([
    ["a blank name", { name: "   " }, "name may not be blank"],
    ["a name with spaces around it", { name: " Acme " }, "name may not begin or end with a space"],
    ["a name with a control character", { name: "Acme\u0007" }, "name may not hold control characters"],
    ["a name that reorders text", { name: "Ac\u202eme" }, "name may not hold characters that reorder text"],
    ["an id that names another path", { name: "Pathless", orgId: "../x" }, "org_id may hold only ASCII letters"],
  ])("refuses %s with InvalidArgument TEXT_INVALID, adding nothing", async (_case, request, message) => {
    const { orgs } = api(server.url, server.adminToken, "grpc");
    const refused = await failure(orgs.addOrganization(request));
    expect(refused).toMatchObject({ code: 3, reason: "TEXT_INVALID" });
    expect(refused.message).toContain(message);
    // Not found by a name query: one holding a control character is refused as a filter value.
    const { result } = await orgs.listOrganizations({ query: { limit: 1000 } });
    expect(result.map((organization) => organization.name)).not.toContain(request.name);
  });

  it.each(rpcProtocols)("refuses admins as Unimplemented naming the field over %s", async (protocol) => {
    const { orgs } = api(server.url, server.adminToken, protocol);
    const refused = await failure(
      orgs.addOrganization({ name: unique("With admins"), admins: [{ userType: { case: "userId", value: "someone" }, roles: ["ORG_OWNER"] }] }),
    );
    expect(refused.code).toBe(12);
    expect(refused.message).toContain("admins");
  });

  it("refuses admins over REST with 501 naming the field", async () => {
    const answer = await rest(server.url, server.adminToken, "POST", "/v2/organizations", {
      name: unique("With admins"),
      admins: [{ userId: "someone", roles: ["ORG_OWNER"] }],
    });
    expect(answer.status).toBe(501);
    expect(answer.body.message).toContain("admins");
  });

  it("refuses a caller who is not IAM_OWNER (PermissionDenied), even an ORG_OWNER", async () => {
    const owner = await setup.member(alpha, ["ORG_OWNER"]);
    for (const protocol of ["connect", "grpc-web"] as const) {
      const refused = await failure(api(server.url, owner.token, protocol).orgs.addOrganization({ name: unique("Not mine") }));
      expect(refused).toMatchObject({ code: 7, reason: "PERMISSION_DENIED" });
    }
    expect(await rest(server.url, owner.token, "POST", "/v2/organizations", { name: unique("Not mine") })).toMatchObject({ status: 403 });
  });
});

describe("ListOrganizations", () => {
  const names = async (queries: Query[], protocol: (typeof rpcProtocols)[number] = "connect") => {
    const { result } = await api(server.url, server.adminToken, protocol).orgs.listOrganizations({
      queries: [nameQuery(prefix, TextQueryMethod.STARTS_WITH), ...queries],
      sortingColumn: OrganizationFieldName.NAME,
      query: { asc: true },
    });
    return result.map((org) => org.name.slice(prefix.length + 1));
  };

  it.each(rpcProtocols)("answers each TextQueryMethod over %s", async (protocol) => {
    expect(await names([nameQuery(`${prefix} Zeta`, TextQueryMethod.EQUALS)], protocol)).toEqual(["Zeta"]);
    expect(await names([nameQuery(`${prefix} zeta`.toUpperCase(), TextQueryMethod.EQUALS)], protocol)).toEqual([]);
    expect(await names([nameQuery(`${prefix} zeta`.toUpperCase(), TextQueryMethod.EQUALS_IGNORE_CASE)], protocol)).toEqual(["Zeta"]);
    expect(await names([nameQuery(`${prefix} Beta`, TextQueryMethod.STARTS_WITH)], protocol)).toEqual(["Beta Alpha"]);
    expect(await names([nameQuery(`${prefix} beta`, TextQueryMethod.STARTS_WITH)], protocol)).toEqual([]);
    expect(await names([nameQuery(`${prefix} BETA`, TextQueryMethod.STARTS_WITH_IGNORE_CASE)], protocol)).toEqual(["Beta Alpha"]);
    expect(await names([nameQuery("Alpha", TextQueryMethod.CONTAINS)], protocol)).toEqual(["Alpha Gamma", "Beta Alpha"]);
    expect(await names([nameQuery("alpha", TextQueryMethod.CONTAINS)], protocol)).toEqual([]);
    expect(await names([nameQuery("ALPHA", TextQueryMethod.CONTAINS_IGNORE_CASE)], protocol)).toEqual(["Alpha Gamma", "Beta Alpha"]);
    expect(await names([nameQuery("Alpha", TextQueryMethod.ENDS_WITH)], protocol)).toEqual(["Beta Alpha"]);
    expect(await names([nameQuery("alpha", TextQueryMethod.ENDS_WITH)], protocol)).toEqual([]);
    expect(await names([nameQuery("ALPHA", TextQueryMethod.ENDS_WITH_IGNORE_CASE)], protocol)).toEqual(["Beta Alpha"]);
  });

  it("treats LIKE wildcards in a name query as plain characters", async () => {
    expect(await names([nameQuery("%", TextQueryMethod.CONTAINS)])).toEqual([]);
    expect(await names([nameQuery("_", TextQueryMethod.CONTAINS_IGNORE_CASE)])).toEqual([]);
  });

  it("answers id, default and state queries", async () => {
    const { orgs } = api(server.url, server.adminToken, "grpc");
    const byId = await orgs.listOrganizations({ queries: [{ query: { case: "idQuery", value: { id: beta } } }] });
    expect(byId.result.map((org) => org.id)).toEqual([beta]);
    expect(byId.details?.totalResult).toBe(1n);

    const byDefault = await orgs.listOrganizations({ queries: [{ query: { case: "defaultQuery", value: {} } }] });
    expect(byDefault.result).toHaveLength(1);
    expect(byDefault.result[0]?.name).toBe("Default");

    expect(await names([{ query: { case: "stateQuery", value: { state: OrganizationState.ACTIVE } } }])).toEqual([
      "Alpha Gamma",
      "Beta Alpha",
      "Zeta",
    ]);
    expect(await names([{ query: { case: "stateQuery", value: { state: OrganizationState.INACTIVE } } }])).toEqual([]);
    expect(await names([{ query: { case: "stateQuery", value: { state: OrganizationState.REMOVED } } }])).toEqual([]);
  });

  it("refuses domain_query as Unimplemented naming it", async () => {
    const refused = await failure(
      api(server.url, server.adminToken).orgs.listOrganizations({ queries: [{ query: { case: "domainQuery", value: { domain: "acme.example" } } }] }),
    );
    expect(refused.code).toBe(12);
    expect(refused.message).toContain("domain_query");
  });

  it("pages and sorts by name or by creation, with the total of all matches", async () => {
    const { orgs } = api(server.url, server.adminToken, "grpc-web");
    const page = (query: { offset?: bigint; limit?: number; asc?: boolean }, sortingColumn = OrganizationFieldName.NAME) =>
      orgs.listOrganizations({ queries: [nameQuery(prefix, TextQueryMethod.STARTS_WITH)], query, sortingColumn });

    const first = await page({ limit: 2, asc: true });
    expect(first.details?.totalResult).toBe(3n);
    expect(first.sortingColumn).toBe(OrganizationFieldName.NAME);
    expect(first.result.map((org) => org.id)).toEqual([gamma, alpha]);
    const second = await page({ offset: 2n, limit: 2, asc: true });
    expect(second.details?.totalResult).toBe(3n);
    expect(second.result.map((org) => org.id)).toEqual([beta]);
    expect((await page({ asc: false })).result.map((org) => org.id)).toEqual([beta, alpha, gamma]);
    expect((await page({ asc: true }, OrganizationFieldName.UNSPECIFIED)).result.map((org) => org.id)).toEqual([gamma, alpha, beta]);
    expect((await page({ asc: false }, OrganizationFieldName.UNSPECIFIED)).result.map((org) => org.id)).toEqual([beta, alpha, gamma]);
    expect((await page({ offset: 10n })).result).toEqual([]);
  });

  it("over REST: POST /v2/organizations/_search with queries, paging and sorting in JSON", async () => {
    const answer = await rest(server.url, server.adminToken, "POST", "/v2/organizations/_search", {
      query: { offset: "1", limit: 1, asc: true },
      sortingColumn: "ORGANIZATION_FIELD_NAME_NAME",
      queries: [{ nameQuery: { name: prefix.toLowerCase(), method: "TEXT_QUERY_METHOD_STARTS_WITH_IGNORE_CASE" } }],
    });
    expect(answer.status).toBe(200);
    expect(answer.body.details.totalResult).toBe("3");
    expect(answer.body.result.map((org: { id: string }) => org.id)).toEqual([alpha]);
  });

  it("shows a member only the organizations it holds a role in, on every protocol", async () => {
    const viewer = await setup.member(alpha, ["ORG_USER_VIEWER"]);
    for (const protocol of rpcProtocols) {
      const { result, details } = await api(server.url, viewer.token, protocol).orgs.listOrganizations({});
      expect(result.map((org) => org.id)).toEqual([alpha]);
      expect(details?.totalResult).toBe(1n);
    }
    const viaRest = await rest(server.url, viewer.token, "POST", "/v2/organizations/_search", {});
    expect(viaRest.body.result.map((org: { id: string }) => org.id)).toEqual([alpha]);
    // Queries for other organizations find nothing, not even whether they exist.
    const other = await api(server.url, viewer.token).orgs.listOrganizations({ queries: [{ query: { case: "idQuery", value: { id: beta } } }] });
    expect(other.result).toEqual([]);
    expect(other.details?.totalResult).toBe(0n);
    const byDefault = await api(server.url, viewer.token).orgs.listOrganizations({ queries: [{ query: { case: "defaultQuery", value: {} } }] });
    expect(byDefault.result).toEqual([]);

    // A second role elsewhere adds that organization.
    await setup.admin.admins.createAdministrator({
      userId: viewer.userId,
      resource: { resource: { case: "organizationId", value: gamma } },
      roles: ["ORG_OWNER"],
    });
    const both = await api(server.url, viewer.token, "grpc").orgs.listOrganizations({ sortingColumn: OrganizationFieldName.NAME, query: { asc: true } });
    expect(both.result.map((org) => org.id)).toEqual([gamma, alpha]);
  });

  it("shows a service account with no role no organization, not even its own", async () => {
    const nobody = await setup.machine(alpha);
    const { result, details } = await api(server.url, nobody.token, "grpc").orgs.listOrganizations({});
    expect(result).toEqual([]);
    expect(details?.totalResult).toBe(0n);
  });
});

describe("bounded queries", () => {
  it.each(rpcProtocols)("over %s: more than 100 queries are InvalidArgument, not a 500", async (protocol) => {
    const { orgs } = api(server.url, server.adminToken, protocol);
    const byName = (name: string) => ({ query: { case: "nameQuery" as const, value: { name, method: TextQueryMethod.EQUALS } } });
    const queries = Array.from({ length: 1_100 }, (_, index) => byName(`nothing-${index}`));
    expect(await failure(orgs.listOrganizations({ queries }))).toMatchObject({ code: 3 });
    expect((await orgs.listOrganizations({ queries: queries.slice(0, 100) })).result).toEqual([]);
  });
});
