// Whether a caller may act on a user, an organization or the instance. Where the caller may not even know that the
// thing exists, the answer is the very error a missing one gets, so refusals reveal nothing about other tenants.
import { type DomainError, errors } from "../errors.js";
import { type Permission, hasPermission, isInstanceOwner, isMember } from "./permissions.js";
import type { Grants } from "./member.js";
import type { Principal, Role } from "./principal.js";

export interface TargetUser {
  userId: string;
  organizationId: string;
}

/**
 * undefined when allowed. `selfSuffices`: being the target user is enough for this call. A caller who is the target
 * but needs the permission gets PermissionDenied, not NotFound: it knows it exists.
 */
export function userAccessError(
  principal: Principal,
  target: TargetUser,
  permission: Permission,
  selfSuffices: boolean,
): DomainError | undefined {
  const isSelf = principal.userId === target.userId;
  if (isSelf && selfSuffices) return undefined;
  if (!isSelf && !isMember(principal, target.organizationId)) return errors.userNotFound();
  return hasPermission(principal, permission, target.organizationId) ? undefined : errors.permissionDenied(permission);
}

/**
 * For calls on an organization, or on something of it: a non-member is told that what it named does not exist (the
 * organization, or `hiddenAs` for the thing it named, such as an application).
 */
export function organizationAccessError(
  principal: Principal,
  organizationId: string,
  permission: Permission,
  hiddenAs: () => DomainError = errors.organizationNotFound,
): DomainError | undefined {
  if (!isMember(principal, organizationId)) return hiddenAs();
  return hasPermission(principal, permission, organizationId) ? undefined : errors.permissionDenied(permission);
}

/** For permissions that exist on the instance only (creating organizations). */
export function instanceAccessError(principal: Principal, permission: Permission): DomainError | undefined {
  return hasPermission(principal, permission) ? undefined : errors.permissionDenied(permission);
}

/** Everything the caller may see of users: "all" for an IAM_OWNER, else these organizations (plus itself). */
export function organizationsWith(principal: Principal, permission: Permission): "all" | string[] {
  if (isInstanceOwner(principal)) return "all";
  return [...principal.organizationRoles.keys()].filter((id) => hasPermission(principal, permission, id));
}

/** ListUsers shows a user only when the caller may read it. */
export function mayReadUser(principal: Principal, target: TargetUser): boolean {
  return principal.userId === target.userId || hasPermission(principal, "user.read", target.organizationId);
}

/** ListOrganizations shows the organizations the caller is a member of ("all" for an IAM_OWNER). */
export function memberOrganizations(principal: Principal): "all" | string[] {
  if (isInstanceOwner(principal)) return "all";
  return [...principal.organizationRoles].filter(([, roles]) => roles.length > 0).map(([id]) => id);
}

/**
 * Administrators of the instance (organizationId undefined) or of one organization. Granting IAM_OWNER, or touching
 * the instance's administrators, needs IAM_OWNER; an organization's are managed with member.write there.
 */
export function administratorAccessError(
  principal: Principal,
  organizationId: string | undefined,
  permission: Extract<Permission, "member.read" | "member.write">,
  grantedRoles: readonly Role[] = [],
): DomainError | undefined {
  if (organizationId === undefined || grantedRoles.includes("IAM_OWNER")) {
    return isInstanceOwner(principal) ? undefined : errors.permissionDenied(permission);
  }
  return organizationAccessError(principal, organizationId, permission);
}

/** A token for a user who holds IAM_OWNER would hand out the whole instance: only an IAM_OWNER may make one. */
/** A token for a service account acts with all its roles: the rule's permission, and no takeover (below). */
export function serviceAccountTokenAccessError(
  principal: Principal,
  target: TargetUser,
  targetGrants: Grants,
): DomainError | undefined {
  return userAccessError(principal, target, "user.credential.write", false) ?? takeoverError(principal, targetGrants);
}

/**
 * Changing another user's password, status, tokens or contacts hands its roles to whoever does it: allowed only to
 * a caller who could grant every one of those roles itself (IAM_OWNER for instance roles, member.write where the
 * user holds organization roles). Otherwise a manager could reset an IAM_OWNER's password and log in as it.
 */
export function takeoverError(principal: Principal, targetGrants: Grants): DomainError | undefined {
  if (targetGrants.instanceRoles.length > 0 && !isInstanceOwner(principal)) return errors.permissionDenied("member.write");
  for (const organizationId of targetGrants.organizationRoles.keys()) {
    if (!hasPermission(principal, "member.write", organizationId)) return errors.permissionDenied("member.write");
  }
  return undefined;
}
