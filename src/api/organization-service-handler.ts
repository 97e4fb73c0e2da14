// OrganizationService: organizations are added by the instance's owners and listed to their members.
import type { ServiceImpl } from "@connectrpc/connect";
import { isInstanceOwner } from "../domain/access/permissions.js";
import type { IdGenerator } from "../domain/ids.js";
import type { OrganizationFilter } from "../domain/organizations/organization-query.js";
import { checkOrganizationText } from "../domain/organizations/organization-text.js";
import type { Clock, OrganizationStore } from "../domain/ports.js";
import { OrganizationState } from "../gen/zitadel/org/v2/org_pb.js";
import type { OrganizationService } from "../gen/zitadel/org/v2/org_service_pb.js";
import { OrganizationFieldName, type SearchQuery } from "../gen/zitadel/org/v2/query_pb.js";
import { authorizeListing, authorizeOnInstance, callerOf } from "./authorization.js";
import { checkFilterCount, toListDetails, toPage, toTextMatch } from "./list-mapping.js";
import { toDetails } from "./proto-mapping.js";
import { requestIdIn } from "./request-context.js";
import type { SecurityRecorder } from "./security-recorder.js";

export interface OrganizationServiceDeps {
  organizations: OrganizationStore;
  newId: IdGenerator;
  clock: Clock;
  recordSecurityEvent: SecurityRecorder;
}

export function createOrganizationServiceHandler(deps: OrganizationServiceDeps): ServiceImpl<typeof OrganizationService> {
  return {
    async addOrganization(req, ctx) {
      authorizeOnInstance(ctx);
      checkOrganizationText(req.name, req.orgId);
      const organization = { id: req.orgId || deps.newId(), name: req.name, createdAt: deps.clock.now() };
      await deps.organizations.add(organization);
      await deps.recordSecurityEvent({
        kind: "organization.created",
        actorId: callerOf(ctx).userId,
        organizationId: organization.id,
        detail: { organizationId: organization.id, name: organization.name },
      }, requestIdIn(ctx.values));
      return {
        organizationId: organization.id,
        // Organizations are rows, not event streams: their first and only version.
        details: toDetails({ sequence: 1, changeDate: organization.createdAt, resourceOwner: organization.id }),
        createdAdmins: [],
      };
    },

    async listOrganizations(req, ctx) {
      const caller = authorizeListing(ctx);
      checkFilterCount(req.queries.length);
      const page = await deps.organizations.list({
        ...toPage(req.query),
        filters: req.queries.map(toFilter),
        ...(isInstanceOwner(caller) ? {} : { within: [...caller.organizationRoles.keys()] }),
        sortBy: req.sortingColumn === OrganizationFieldName.NAME ? "name" : "creation",
      });
      return {
        details: toListDetails(page.total, deps.clock.now()),
        sortingColumn: req.sortingColumn,
        result: page.organizations.map((organization) => ({
          id: organization.id,
          name: organization.name,
          state: OrganizationState.ACTIVE,
          primaryDomain: "",
          details: toDetails({ sequence: 1, changeDate: organization.createdAt, resourceOwner: organization.id }),
        })),
      };
    },
  };
}

const states: Record<OrganizationState, "active" | "inactive" | "removed"> = {
  [OrganizationState.UNSPECIFIED]: "active",
  [OrganizationState.ACTIVE]: "active",
  [OrganizationState.INACTIVE]: "inactive",
  [OrganizationState.REMOVED]: "removed",
};

/** Validation guarantees one query kind; domain_query is refused as unsupported before the handler runs. */
function toFilter(query: SearchQuery): OrganizationFilter {
  switch (query.query.case) {
    case "nameQuery":
      return { kind: "name", name: query.query.value.name, match: toTextMatch(query.query.value.method) };
    case "idQuery":
      return { kind: "id", id: query.query.value.id };
    case "defaultQuery":
      return { kind: "default" };
    case "stateQuery":
      return { kind: "state", state: states[query.query.value.state] };
    default:
      throw new Error(`organization query ${query.query.case} reached the handler`);
  }
}
