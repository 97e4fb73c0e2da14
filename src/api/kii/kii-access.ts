// Who may do what through Kii's API. Everything happens within the app's organization: a user of any other is a
// user that does not exist. An app acting with its key may register users and verify and resend their codes, nothing
// else. A user's token follows the rule of the ZITADEL RPC that does the same (access-rules.ts), so both APIs allow
// exactly the same to the same caller.
import { type TargetUser, userAccessError } from "../../domain/access/access-decisions.js";
import { hasPermission, isInstanceOwner } from "../../domain/access/permissions.js";
import { type Channel, type DomainError, errors } from "../../domain/errors.js";
import { type AccessRule, type RequestFacts, type RuledRpc, accessRules, selfSuffices } from "../access-rules.js";
import type { KiiCaller } from "./kii-caller.js";

export type KiiUserOperation =
  | { kind: "read" }
  /** Without a channel: an update that changes no address (SetPhone and SetEmail share one rule). */
  | { kind: "update"; channel?: Channel }
  | { kind: "verify" | "resend" | "reset-code"; channel: Channel };

/** What an app's own credentials allow on a user of its organization. */
const applicationOperations: ReadonlySet<KiiUserOperation["kind"]> = new Set(["verify", "resend"]);

/** The RPCs whose rule is about one user. */
type UserRpc = { [Rpc in RuledRpc]: (typeof accessRules)[Rpc] extends { on: "user" } ? Rpc : never }[RuledRpc];

/** The ZITADEL RPC that does what the operation does, whose access rule applies, and what the request asks. */
export function zitadelEquivalent(operation: KiiUserOperation): { rpc: UserRpc; facts: RequestFacts } {
  if (operation.kind === "read") return { rpc: "UserService/GetUserByID", facts: {} };
  const contact = operation.channel === "email" ? "Email" : "Phone";
  switch (operation.kind) {
    case "update":
      return { rpc: `UserService/Set${contact}`, facts: { codeReturnedOrPreset: false } };
    case "verify":
      return { rpc: `UserService/Verify${contact}`, facts: {} };
    case "resend":
      return { rpc: `UserService/Resend${contact}Code`, facts: { codeReturnedOrPreset: false } };
    case "reset-code":
      return { rpc: `UserService/Resend${contact}Code`, facts: { codeReturnedOrPreset: true } };
  }
}

function ruleOf(operation: KiiUserOperation): { rule: Extract<AccessRule, { on: "user" }>; facts: RequestFacts } {
  const { rpc, facts } = zitadelEquivalent(operation);
  return { rule: accessRules[rpc], facts };
}

/** undefined when allowed; the NotFound of a missing user outside the app's organization. */
export function kiiUserAccessError(caller: KiiCaller, target: TargetUser, operation: KiiUserOperation): DomainError | undefined {
  if (target.organizationId !== caller.app.organizationId) return errors.userNotFound();
  const { rule, facts } = ruleOf(operation);
  if (caller.kind === "application") {
    return applicationOperations.has(operation.kind) ? undefined : errors.permissionDenied(rule.permission);
  }
  return userAccessError(caller.principal, target, rule.permission, selfSuffices(rule.self, facts));
}

/**
 * Whether the change must also pass the takeover check (takeoverError): a user changing someone else, as for the
 * ZITADEL RPCs. An app never needs it: it only verifies a code the person received and resends to the address
 * the user already has, which hands no one the user's roles.
 */
export function kiiChangesAnotherUser(caller: KiiCaller, target: TargetUser, operation: KiiUserOperation): boolean {
  if (caller.kind === "application") return false;
  const { principal } = caller;
  return ruleOf(operation).rule.permission === "user.write" && principal.userId !== target.userId && !isInstanceOwner(principal);
}

/**
 * Registering a user in the app's organization: an app may (but not declare an address verified, which proves
 * nothing); a user needs AddHumanUser's permission there.
 */
export function kiiRegistrationAccessError(caller: KiiCaller, presetVerified: boolean): DomainError | undefined {
  const { permission } = accessRules["UserService/AddHumanUser"];
  if (caller.kind === "application") return presetVerified ? errors.permissionDenied(permission) : undefined;
  return hasPermission(caller.principal, permission, caller.app.organizationId) ? undefined : errors.permissionDenied(permission);
}
