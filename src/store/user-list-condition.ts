// ListUsers' WHERE over the users projection, for both dialects: whom the caller may read, which column each filter
// looks at and how and/or/not combine are one piece; the table, the visible addresses (the JSON paths differ) and the
// spelling of conditions (text-condition.ts) come from the dialect.
import { type Column, type SQL, and, eq, inArray, not, or } from "drizzle-orm";
import { usernameKey } from "../domain/credentials/login-name.js";
import type { TextMatch } from "../domain/text-match.js";
import type { UserFilter, UserQuery } from "../domain/users/user-query.js";
import { type ConditionSpelling, textCondition } from "./text-condition.js";

export interface UserListColumns {
  id: Column;
  resourceOwner: Column;
  username: Column;
  status: Column;
  kind: Column;
}

/** What GetUserByID shows as the address: the verified one while a change is pending, else the pending one. */
export interface VisibleAddresses {
  email: SQL;
  phone: SQL;
}

/** The condition a ListUsers query puts on the users: readable by the caller, and every filter holding. */
export function userListCondition(
  users: UserListColumns,
  visible: VisibleAddresses,
  spelling: ConditionSpelling,
): (query: UserQuery) => SQL | undefined {
  // An equal username, in any case or exactly, has the key of the wanted one: looked up by the index of keys, then
  // compared as the filter says. Alone, the comparison read every user: a trial's query by username (EQUALS, the
  // default) on a million users on SQLite was refused as too costly, and one ignoring case took 1.4–1.8 s on 300,000
  // users on PostgreSQL.
  const usernameCondition = (match: TextMatch, username: string): SQL | undefined => {
    const compared = textCondition(spelling, users.username, match, username);
    if (match !== "equals" && match !== "equalsIgnoreCase") return compared;
    return and(eq(spelling.indexedUsernameKey(users.username), usernameKey(username)), compared);
  };
  const condition = (filter: UserFilter): SQL | undefined => {
    switch (filter.kind) {
      case "organization":
        return eq(users.resourceOwner, filter.organizationId);
      case "username":
        return usernameCondition(filter.match, filter.username);
      case "email":
        return textCondition(spelling, visible.email, filter.match, filter.email);
      case "phone":
        return textCondition(spelling, visible.phone, filter.match, filter.phone);
      case "status":
        return eq(users.status, filter.status);
      case "type":
        return eq(users.kind, filter.type);
      case "ids":
        return inArray(users.id, [...filter.ids]);
      // An empty and holds for everyone, an empty or for no one.
      case "and":
        return and(spelling.always, ...filter.filters.map(condition));
      case "or":
        return or(spelling.never, ...filter.filters.map(condition));
      case "not":
        return not(condition(filter.filter) ?? spelling.always);
    }
  };
  return (query) => {
    const { organizations, self } = query.readable;
    const ofOrganizations = organizations === undefined ? undefined : inArray(users.resourceOwner, [...organizations]);
    const readable = ofOrganizations && self !== undefined ? or(eq(users.id, self), ofOrganizations) : ofOrganizations;
    return and(readable, ...query.filters.map(condition));
  };
}
