// Administrators: the roles a user holds on the instance or on one organization, as granted through the API.
import type { Role } from "./principal.js";

/** organizationId "" stands for the instance. */
export const instanceResource = "";

export interface Member {
  userId: string;
  organizationId: string;
  roles: Role[];
  createdAt: Date;
  changedAt: Date;
}

/** A user's grants, split as a Principal carries them. */
export interface Grants {
  instanceRoles: Role[];
  organizationRoles: Map<string, Role[]>;
}

export interface MemberStore {
  grantsOf(userId: string): Promise<Grants>;
  /** AlreadyExists (ADMINISTRATOR_ALREADY_EXISTS) when the user is already a member there. */
  add(member: Member): Promise<void>;
  /** Replaces the roles; false when the user is no member there. */
  update(userId: string, organizationId: string, roles: Role[], at: Date): Promise<boolean>;
  /** false when the user is no member there. */
  remove(userId: string, organizationId: string): Promise<boolean>;
  /** The members of these organizations ("" for the instance), or of all (undefined), oldest first. */
  list(organizationIds?: readonly string[]): Promise<Member[]>;
}

export function grantsFrom(members: readonly Pick<Member, "organizationId" | "roles">[]): Grants {
  const grants: Grants = { instanceRoles: [], organizationRoles: new Map() };
  for (const { organizationId, roles } of members) {
    if (organizationId === instanceResource) grants.instanceRoles.push(...roles);
    else grants.organizationRoles.set(organizationId, [...roles]);
  }
  return grants;
}
