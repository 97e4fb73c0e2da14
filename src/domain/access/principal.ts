// Who is calling: the user a bearer token stands for, with the roles that user holds. Built per call by the
// authenticator from the token, so a removed token, a changed role or a disabled user counts from the next call on.

export type Role = "IAM_OWNER" | "ORG_OWNER" | "ORG_USER_MANAGER" | "ORG_USER_VIEWER";

export interface Principal {
  userId: string;
  /** The token the call came with: a password change ends the user's other login tokens, not this one. */
  tokenId?: string;
  /** The caller's own organization. */
  organizationId: string;
  /** Roles on the whole instance (only IAM_OWNER exists there). */
  instanceRoles: readonly Role[];
  /** Roles per organization id. */
  organizationRoles: ReadonlyMap<string, readonly Role[]>;
}
