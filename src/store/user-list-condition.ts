// ListUsers' WHERE over the users projection, for both dialects: whom the caller may read, which column each filter
// looks at and how and/or/not combine are one piece; the table, the visible addresses (the JSON paths differ) and the
// spelling of conditions (text-condition.ts) come from the dialect.
import { type Column, type SQL, and, eq, inArray, not, or } from "drizzle-orm";
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
  const condition = (filter: UserFilter): SQL | undefined => {
    switch (filter.kind) {
      case "organization":
        return eq(users.resourceOwner, filter.organizationId);
      case "username":
        return textCondition(spelling, users.username, filter.match, filter.username);
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
