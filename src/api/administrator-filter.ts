// ListAdministrators' filters, evaluated in memory: a caller sees the administrators of a few organizations at most,
// so there is no table scan to avoid, and and/or/not nest freely.
import { Code, ConnectError } from "@connectrpc/connect";
import type { Member } from "../domain/access/member.js";
import { instanceResource } from "../domain/access/member.js";
import { matchesText } from "../domain/text-match.js";
import type { AdministratorSearchFilter } from "../gen/zitadel/internal_permission/v2beta/query_pb.js";
import { matchesTimestampFilter, toTextMatch } from "./list-mapping.js";

/** An administrator as the filters see it: the grant and the user it names. */
export interface AdministratorView {
  member: Member;
  user: { id: string; username: string; displayName: string; organizationId: string };
}

export type AdministratorPredicate = (view: AdministratorView) => boolean;

export function toAdministratorPredicate(filter: AdministratorSearchFilter): AdministratorPredicate {
  const { filter: kind } = filter;
  switch (kind.case) {
    case "creationDate":
      return ({ member }) => matchesTimestampFilter(member.createdAt, kind.value);
    case "changeDate":
      return ({ member }) => matchesTimestampFilter(member.changedAt, kind.value);
    case "inUserIdsFilter":
      return ({ user }) => kind.value.ids.includes(user.id);
    case "userOrganizationId":
      return ({ user }) => user.organizationId === kind.value.id;
    case "userPreferredLoginName":
      return ({ user }) => matchesText(toTextMatch(kind.value.method), user.username, kind.value.preferredLoginName);
    case "userDisplayName":
      return ({ user }) => matchesText(toTextMatch(kind.value.method), user.displayName, kind.value.displayName);
    case "resource": {
      const organizationId = resourceOrganization(kind.value.resource);
      return ({ member }) => member.organizationId === organizationId;
    }
    case "role":
      return ({ member }) => member.roles.includes(kind.value.roleKey as Member["roles"][number]);
    case "and": {
      const all = kind.value.queries.map(toAdministratorPredicate);
      return (view) => all.every((predicate) => predicate(view));
    }
    case "or": {
      const any = kind.value.queries.map(toAdministratorPredicate);
      return (view) => any.some((predicate) => predicate(view));
    }
    case "not": {
      if (!kind.value.query) throw invalidFilter();
      const inner = toAdministratorPredicate(kind.value.query);
      return (view) => !inner(view);
    }
    default:
      // protovalidate does not check filters nested in and/or/not: one without a kind is refused here.
      throw invalidFilter();
  }
}

function invalidFilter(): ConnectError {
  return new ConnectError("every filter in filters, and in and, or and not filters, must set one kind", Code.InvalidArgument);
}

/** The organization a resource names, "" for the instance; projects are refused as unsupported before this. */
export function resourceOrganization(resource: { case: string | undefined; value?: unknown }): string {
  if (resource.case === "organizationId") return resource.value as string;
  if (resource.case === "instance") return instanceResource;
  // A ResourceFilter's oneof is not required by validation: one that names nothing is the caller's mistake.
  if (resource.case === undefined) {
    throw new ConnectError("a resource filter must name the instance or an organization", Code.InvalidArgument);
  }
  throw new Error(`administrators of a ${resource.case} resource`);
}
