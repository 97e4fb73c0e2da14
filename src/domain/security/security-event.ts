// The security log: every security-relevant outcome, with who caused it and whom it concerns, and never a secret
// (no code, password or token; ids and reasons only). Repeats of one outcome within a short window are counted on one
// entry instead of adding entries, so a flood of refusals costs a bounded number of rows.

/** Every kind. The contract lists them again, for validation to refuse a filter naming another; a test keeps both alike. */
export const securityEventKinds = [
  "login.succeeded",
  "login.failed",
  "permission.denied",
  "limit.reached",
  "code.failed",
  "contact.locked",
  "token.created",
  "token.removed",
  "roles.changed",
  "application.created",
  "application.removed",
  "user.removed",
  "user.status.changed",
  "password.changed",
  "settings.changed",
  "organization.created",
] as const;

export type SecurityEventKind = (typeof securityEventKinds)[number];

export interface SecurityEventInput {
  kind: SecurityEventKind;
  /** The user behind the caller's credentials; absent before authentication (a failed login). */
  actorId?: string;
  /** The client's address, for outcomes without an authenticated caller. */
  clientAddress?: string;
  /** The user the outcome concerns. */
  userId?: string;
  organizationId?: string;
  /** Ids, names and reasons only; never a secret. */
  detail: Readonly<Record<string, string>>;
}

export interface SecurityEvent extends SecurityEventInput {
  id: string;
  /** When it first happened, and how often since then within its coalescing window. */
  at: Date;
  lastAt: Date;
  count: number;
}

export interface SecurityLog {
  /**
   * Records an outcome. One with the same kind, actor, client address, user, organization and detail last seen less than
   * `coalesceMs` ago (default one minute) only raises that entry's count.
   */
  record(event: SecurityEventInput, at: Date, coalesceMs?: number): Promise<void>;
}
