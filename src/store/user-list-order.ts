// ListUsers' ORDER BY over the users projection, for both dialects: which column or JSON field each of ZITADEL's sort
// fields reads is one piece; the JSON paths and the byte-wise comparison come from the dialect. A field a user lacks
// (a service account's names, a user without an email) sorts as "", first when ascending in both dialects, where
// NULLs would go first in SQLite and last in PostgreSQL.
import { type Column, type SQL, type SQLWrapper, sql } from "drizzle-orm";
import type { UserSortKey } from "../domain/users/user-query.js";

export interface UserOrderColumns {
  username: Column;
  createdAt: Column;
  status: Column;
  kind: Column;
}

export interface UserOrderSpelling {
  /** The text of a field of the state's profile, e.g. "givenName"; NULL when absent. */
  profileField(name: "givenName" | "familyName" | "nickName" | "displayName"): SQL;
  /** The email address GetUserByID shows. */
  email: SQL;
  /** Text compared byte by byte (code point order), as SQLite compares it. */
  bytewise(text: SQLWrapper): SQL;
}

export function userListOrder(users: UserOrderColumns, spelling: UserOrderSpelling): (key: UserSortKey) => SQLWrapper {
  const text = (expression: SQLWrapper) => spelling.bytewise(sql`coalesce(${expression}, '')`);
  const orders: Record<UserSortKey, SQLWrapper> = {
    creation: users.createdAt,
    username: spelling.bytewise(users.username),
    givenName: text(spelling.profileField("givenName")),
    familyName: text(spelling.profileField("familyName")),
    nickName: text(spelling.profileField("nickName")),
    displayName: text(spelling.profileField("displayName")),
    email: text(spelling.email),
    // active, inactive, locked and human, machine: the order of ZITADEL's enum values too.
    status: users.status,
    type: users.kind,
  };
  return (key) => orders[key];
}
