// A token's holder's roles, read with the token as one JSON array of [organization id, roles] pairs (SQLite's
// json_group_array, PostgreSQL's json_agg), so that authentication reads once.
import { type Grants, grantsFrom } from "../domain/access/member.js";
import type { Role } from "../domain/access/principal.js";

export type MembershipPairs = [organizationId: string, roles: Role[]][];

export function holderGrants(pairs: MembershipPairs): Grants {
  return grantsFrom(pairs.map(([organizationId, roles]) => ({ organizationId, roles })));
}
