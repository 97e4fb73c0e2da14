// What ListOrganizations may ask: filters that all must hold, the organizations the caller may see, and a page.
import type { TextMatch } from "../text-match.js";

export type OrganizationFilter =
  | { kind: "name"; name: string; match: TextMatch }
  | { kind: "id"; id: string }
  | { kind: "default" }
  /** Organizations cannot be deactivated or removed yet: every one is active. */
  | { kind: "state"; state: "active" | "inactive" | "removed" };

export interface OrganizationQuery {
  filters: readonly OrganizationFilter[];
  /** Only these organizations, the ones the caller is a member of; undefined: every organization. */
  within?: readonly string[];
  offset: number;
  limit: number;
  ascending: boolean;
  sortBy: "name" | "creation";
}

export interface ListedOrganization {
  id: string;
  name: string;
  createdAt: Date;
  isDefault: boolean;
}

export interface OrganizationPage {
  /** All organizations that match, not only this page's. */
  total: number;
  organizations: ListedOrganization[];
}
