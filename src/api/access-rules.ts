// Who may call what: one row per RPC, which enforcement (authorization.ts) reads. The permission matrix test checks
// the outcome against a table written independently (test/access/permission-matrix.ts), which the README shows.
import type { Permission } from "../domain/access/permissions.js";

/** When the caller is the target user itself, is that enough? */
export type SelfAccess =
  | "suffices"
  | "never"
  /**
   * A code returned to its requester, or an address it declares verified, proves nothing; a link of the requester's
   * choosing in the organization's message (url_template) would send whoever opens it, and the code, to any host:
   * those need the permission.
   */
  | "unless-code-returned-preset-or-linked"
  /** Changing one's own password needs the current one. */
  | "with-current-password";

export type AccessRule =
  /** The user named by user_id; a non-member of its organization gets the NotFound of a missing user. */
  | { on: "user"; permission: Permission; self: SelfAccess }
  /**
   * The organization named in the request (the default one if none), or the one of the application it names; a
   * non-member gets OrganizationNotFound, or the NotFound of a missing application.
   */
  | { on: "organization"; permission: Permission }
  /** A service account's personal access tokens; a token of an IAM_OWNER only from an IAM_OWNER. */
  | { on: "service-account-tokens"; permission: "user.credential.write" }
  /** Answers only what the caller may see: users it may read, organizations it is a member of. */
  | { on: "readable-users" }
  | { on: "member-organizations" }
  /** Permissions that exist on the instance only. */
  | { on: "instance"; permission: Permission }
  /** Administrators of the instance or an organization; granting IAM_OWNER needs IAM_OWNER. */
  | { on: "administrators"; permission: "member.read" | "member.write" }
  | { on: "public" };

/** Keyed "<Service>/<Method>" with the service's short name, as connect-es names them in a handler's context. */
export const accessRules = {
  "UserService/AddHumanUser": { on: "organization", permission: "user.write" },
  "UserService/CreateUser": { on: "organization", permission: "user.write" },
  "UserService/GetUserByID": { on: "user", permission: "user.read", self: "suffices" },
  "UserService/ListUsers": { on: "readable-users" },
  "UserService/SetPhone": { on: "user", permission: "user.write", self: "unless-code-returned-preset-or-linked" },
  "UserService/ResendPhoneCode": { on: "user", permission: "user.write", self: "unless-code-returned-preset-or-linked" },
  "UserService/VerifyPhone": { on: "user", permission: "user.write", self: "suffices" },
  "UserService/RemovePhone": { on: "user", permission: "user.write", self: "suffices" },
  "UserService/SetEmail": { on: "user", permission: "user.write", self: "unless-code-returned-preset-or-linked" },
  "UserService/ResendEmailCode": { on: "user", permission: "user.write", self: "unless-code-returned-preset-or-linked" },
  "UserService/SendEmailCode": { on: "user", permission: "user.write", self: "unless-code-returned-preset-or-linked" },
  "UserService/VerifyEmail": { on: "user", permission: "user.write", self: "suffices" },
  /** As in ZITADEL, a user may delete themself. */
  "UserService/DeleteUser": { on: "user", permission: "user.delete", self: "suffices" },
  "UserService/DeactivateUser": { on: "user", permission: "user.write", self: "never" },
  "UserService/ReactivateUser": { on: "user", permission: "user.write", self: "never" },
  "UserService/LockUser": { on: "user", permission: "user.write", self: "never" },
  "UserService/UnlockUser": { on: "user", permission: "user.write", self: "never" },
  "UserService/SetPassword": { on: "user", permission: "user.write", self: "with-current-password" },
  "UserService/AddPersonalAccessToken": { on: "service-account-tokens", permission: "user.credential.write" },
  "UserService/RemovePersonalAccessToken": { on: "service-account-tokens", permission: "user.credential.write" },
  "UserService/ListPersonalAccessTokens": { on: "service-account-tokens", permission: "user.credential.write" },
  "OrganizationService/AddOrganization": { on: "instance", permission: "org.create" },
  "OrganizationService/ListOrganizations": { on: "member-organizations" },
  "InternalPermissionService/CreateAdministrator": { on: "administrators", permission: "member.write" },
  "InternalPermissionService/UpdateAdministrator": { on: "administrators", permission: "member.write" },
  "InternalPermissionService/DeleteAdministrator": { on: "administrators", permission: "member.write" },
  "InternalPermissionService/ListAdministrators": { on: "administrators", permission: "member.read" },
  "VerificationSettingsService/GetVerificationSettings": { on: "organization", permission: "org.read" },
  "VerificationSettingsService/SetVerificationSettings": { on: "organization", permission: "org.settings.write" },
  "SecurityLogService/ListSecurityEvents": { on: "instance", permission: "security_log.read" },
  "ApplicationService/CreateApplication": { on: "organization", permission: "app.write" },
  "ApplicationService/ListApplications": { on: "organization", permission: "app.read" },
  "ApplicationService/DeleteApplication": { on: "organization", permission: "app.write" },
  "Health/Check": { on: "public" },
  "Health/Watch": { on: "public" },
} as const satisfies Record<string, AccessRule>;

export type RuledRpc = keyof typeof accessRules;

/** The rule of a call, by the names connect-es gives its service and method; undefined for an RPC with no row. */
export function accessRuleOf(serviceName: string, methodName: string): AccessRule | undefined {
  return (accessRules as Record<string, AccessRule>)[`${serviceName}/${methodName}`];
}

/** What the caller asked for, where the rule depends on it. */
export interface RequestFacts {
  codeReturnedOrPreset?: boolean;
  /** A send_code with a url_template. */
  linkChosen?: boolean;
  currentPasswordGiven?: boolean;
}

export function selfSuffices(self: SelfAccess, facts: RequestFacts): boolean {
  switch (self) {
    case "suffices":
      return true;
    case "never":
      return false;
    case "unless-code-returned-preset-or-linked":
      return facts.codeReturnedOrPreset !== true && facts.linkChosen !== true;
    case "with-current-password":
      return facts.currentPasswordGiven === true;
  }
}
