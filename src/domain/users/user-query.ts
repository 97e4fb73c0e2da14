// What ListUsers may ask: filters that all must hold, the users the caller may read, and a page.
import type { TextMatch } from "../text-match.js";
import type { UserState } from "../user-state.js";

export type UserFilter =
  | { kind: "organization"; organizationId: string }
  | { kind: "username"; username: string; match: TextMatch }
  /** The address GetUserByID shows: the verified one, else the one awaiting verification. */
  | { kind: "email"; email: string; match: TextMatch }
  | { kind: "phone"; phone: string; match: TextMatch }
  | { kind: "status"; status: "active" | "inactive" | "locked" }
  | { kind: "type"; type: "human" | "machine" }
  | { kind: "ids"; ids: readonly string[] }
  | { kind: "and"; filters: readonly UserFilter[] }
  | { kind: "or"; filters: readonly UserFilter[] }
  | { kind: "not"; filter: UserFilter };

/** Whom a caller may read: the users of some organizations (undefined: all), and always itself. */
export interface ReadableUsers {
  organizations?: readonly string[];
  /** The caller, where its own organization is not among `organizations`. */
  self?: string;
}

export interface UserQuery {
  filters: readonly UserFilter[];
  readable: ReadableUsers;
  offset: number;
  limit: number;
  ascending: boolean;
  sortBy: UserSortKey;
}

/** ZITADEL's sort fields for users (UserFieldName); names are the profile's, status and type the columns'. */
export type UserSortKey = "creation" | "username" | "givenName" | "familyName" | "nickName" | "displayName" | "email" | "status" | "type";

export interface UserPage {
  /** All users that match, not only this page's. */
  total: number;
  users: UserState[];
}

export interface UserQueryStore {
  list(query: UserQuery): Promise<UserPage>;
}
