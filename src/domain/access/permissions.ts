// What each role allows. Permissions are checked, never roles, so that a role's reach is written down in one place.
import type { Principal, Role } from "./principal.js";

export type Permission =
  | "user.read"
  | "user.write"
  /** Erasing a user, which cannot be undone. */
  | "user.delete"
  | "user.credential.write"
  | "org.read"
  | "org.create"
  /** The organization's verification settings; loosening a limit beyond the instance's default needs IAM_OWNER. */
  | "org.settings.write"
  | "member.read"
  | "member.write"
  /** The security log, which covers every organization: held by IAM_OWNER only. */
  | "security_log.read"
  /** The organization's Kii applications; their keys act for its users. */
  | "app.read"
  | "app.write";

const organizationPermissions: Readonly<Record<Exclude<Role, "IAM_OWNER">, readonly Permission[]>> = {
  ORG_OWNER: [
    "user.read",
    "user.write",
    "user.delete",
    "user.credential.write",
    "org.read",
    "org.settings.write",
    "member.read",
    "member.write",
    "app.read",
    "app.write",
  ],
  ORG_USER_MANAGER: ["user.read", "user.write", "user.delete", "org.read"],
  ORG_USER_VIEWER: ["user.read", "org.read"],
};

/** Roles that can be granted on an organization; IAM_OWNER exists on the instance only. */
export const organizationRoles = Object.keys(organizationPermissions) as Exclude<Role, "IAM_OWNER">[];

export function isInstanceOwner(principal: Principal): boolean {
  return principal.instanceRoles.includes("IAM_OWNER");
}

/** A member of an organization holds any role there; an IAM_OWNER is a member of every organization. */
export function isMember(principal: Principal, organizationId: string): boolean {
  return isInstanceOwner(principal) || (principal.organizationRoles.get(organizationId)?.length ?? 0) > 0;
}

/** Without an organization the permission is asked of the instance, where only IAM_OWNER holds any. */
export function hasPermission(principal: Principal, permission: Permission, organizationId?: string): boolean {
  if (isInstanceOwner(principal)) return true;
  if (organizationId === undefined) return false;
  const roles = principal.organizationRoles.get(organizationId) ?? [];
  return roles.some((role) => role !== "IAM_OWNER" && organizationPermissions[role].includes(permission));
}
