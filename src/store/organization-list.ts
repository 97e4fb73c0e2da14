// ListOrganizations over the organizations table, for both dialects: the query's filters and the caller's
// organizations as one condition (the table and the spelling of conditions, text-condition.ts, come from the dialect),
// and a row as a listed organization.
import { type Column, type SQL, and, eq, inArray } from "drizzle-orm";
import type { ListedOrganization, OrganizationFilter, OrganizationQuery } from "../domain/organizations/organization-query.js";
import { type ConditionSpelling, textCondition } from "./text-condition.js";

export interface OrganizationListColumns {
  id: Column;
  name: Column;
  isDefault: Column;
}

/**
 * The condition a ListOrganizations query puts on the organizations: every filter holding, and among the caller's
 * (query.within), which the store answers itself when there are none.
 */
export function organizationListCondition(
  organizations: OrganizationListColumns,
  spelling: ConditionSpelling,
): (query: OrganizationQuery) => SQL | undefined {
  const condition = (filter: OrganizationFilter): SQL | undefined => {
    switch (filter.kind) {
      case "id":
        return eq(organizations.id, filter.id);
      case "default":
        return eq(organizations.isDefault, true);
      case "name":
        return textCondition(spelling, organizations.name, filter.match, filter.name);
      case "state":
        // Organizations cannot be deactivated or removed yet: every one is active.
        return filter.state === "active" ? spelling.always : spelling.never;
    }
  };
  return (query) =>
    and(...query.filters.map(condition), ...(query.within ? [inArray(organizations.id, [...query.within])] : []));
}

/** A listed row: the default organization's marker is true, every other's NULL. */
export function listedOrganization(row: Omit<ListedOrganization, "isDefault"> & { isDefault: boolean | null }): ListedOrganization {
  return { ...row, isDefault: row.isDefault === true };
}
