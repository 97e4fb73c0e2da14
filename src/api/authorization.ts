// Applies the access rules (access-rules.ts) inside handlers: the rule is found by the RPC being served, so a handler
// cannot check another RPC's rule by mistake, and an RPC without a row is refused rather than let through.
import type { HandlerContext } from "@connectrpc/connect";
import {
  type TargetUser,
  administratorAccessError,
  instanceAccessError,
  organizationAccessError,
  serviceAccountTokenAccessError,
  takeoverError,
  userAccessError,
} from "../domain/access/access-decisions.js";
import type { Grants } from "../domain/access/member.js";
import { type Permission, isInstanceOwner } from "../domain/access/permissions.js";
import type { Principal, Role } from "../domain/access/principal.js";
import { type DomainError, errors } from "../domain/errors.js";
import { type AccessRule, type RequestFacts, accessRuleOf, selfSuffices } from "./access-rules.js";
import { principalKey } from "./request-context.js";

/** The authenticated caller. The edge refuses calls without one; this guards a handler served some other way. */
export function callerOf(ctx: HandlerContext): Principal {
  const principal = ctx.values.get(principalKey);
  if (!principal) throw errors.unauthenticated();
  return principal;
}

/** For rules on: "user". Throws the NotFound of a missing user, or PermissionDenied. */
export function authorizeOnUser(ctx: HandlerContext, target: TargetUser, facts: RequestFacts = {}): Principal {
  const rule = ruleOf(ctx, "user");
  const principal = callerOf(ctx);
  throwIf(userAccessError(principal, target, rule.permission, selfSuffices(rule.self, facts)));
  return principal;
}

/**
 * For rules on: "organization": the organization a user is created in (AddHumanUser, CreateUser), whose
 * verification settings are read or set, or whose applications are created or listed. Only an IAM_OWNER, who sees every organization anyway, may choose the new
 * user's id: for anyone else, "already exists" would tell which ids exist in organizations it cannot see.
 */
export function authorizeInOrganization(ctx: HandlerContext, organizationId: string, chosenUserId?: string): Principal {
  const rule = ruleOf(ctx, "organization");
  const principal = callerOf(ctx);
  throwIf(organizationAccessError(principal, organizationId, rule.permission));
  if (chosenUserId !== undefined && !isInstanceOwner(principal)) throw errors.userIdChoiceDenied();
  return principal;
}

/**
 * For rules on: "organization" where the request names an application rather than its organization
 * (DeleteApplication): a non-member gets the NotFound of a missing application, as if the id were unknown.
 */
export function authorizeOnApplication(ctx: HandlerContext, application: { organizationId: string }): Principal {
  const rule = ruleOf(ctx, "organization");
  const principal = callerOf(ctx);
  throwIf(organizationAccessError(principal, application.organizationId, rule.permission, errors.applicationNotFound));
  return principal;
}

/** For rules on: "service-account-tokens". */
export function authorizeServiceAccountTokens(ctx: HandlerContext, target: TargetUser, targetGrants: Grants): Principal {
  ruleOf(ctx, "service-account-tokens");
  const principal = callerOf(ctx);
  throwIf(serviceAccountTokenAccessError(principal, target, targetGrants));
  return principal;
}

/** Changing a user's credentials or status hands its roles to whoever does it; deleting it takes them from the organization. */
const outrankedPermissions: ReadonlySet<Permission> = new Set(["user.write", "user.delete"]);

/** For rules on: "user" that change or delete the user: whether the caller acts on someone else, who must not outrank it. */
export function changesAnotherUser(ctx: HandlerContext, principal: Principal, targetUserId: string): boolean {
  return outrankedPermissions.has(ruleOf(ctx, "user").permission) && principal.userId !== targetUserId && !isInstanceOwner(principal);
}

export function authorizeChangeOfAnotherUser(principal: Principal, targetGrants: Grants): void {
  throwIf(takeoverError(principal, targetGrants));
}

/** For rules on: "instance" (AddOrganization). */
export function authorizeOnInstance(ctx: HandlerContext): Principal {
  const rule = ruleOf(ctx, "instance");
  const principal = callerOf(ctx);
  throwIf(instanceAccessError(principal, rule.permission));
  return principal;
}

/** For rules on: "administrators": organizationId undefined means the instance's administrators. */
export function authorizeAdministrators(
  ctx: HandlerContext,
  organizationId: string | undefined,
  grantedRoles: readonly Role[] = [],
): Principal {
  const rule = ruleOf(ctx, "administrators");
  const principal = callerOf(ctx);
  throwIf(administratorAccessError(principal, organizationId, rule.permission, grantedRoles));
  return principal;
}

/** For rules that filter instead of refusing (on: "readable-users", "member-organizations"): just the caller. */
export function authorizeListing(ctx: HandlerContext): Principal {
  const rule = accessRuleOf(ctx.service.name, ctx.method.name);
  if (rule?.on !== "readable-users" && rule?.on !== "member-organizations") throw missingRule(ctx);
  return callerOf(ctx);
}

function ruleOf<On extends AccessRule["on"]>(ctx: HandlerContext, on: On): Extract<AccessRule, { on: On }> {
  const rule = accessRuleOf(ctx.service.name, ctx.method.name);
  if (rule?.on !== on) throw missingRule(ctx);
  return rule as Extract<AccessRule, { on: On }>;
}

// A programming error (a handler asking for the wrong kind of rule, or an RPC without a row): fail closed and loudly.
function missingRule(ctx: HandlerContext): Error {
  return new Error(`no access rule of this kind for ${ctx.service.name}/${ctx.method.name} in access-rules.ts`);
}

function throwIf(error: DomainError | undefined): void {
  if (error) throw error;
}
