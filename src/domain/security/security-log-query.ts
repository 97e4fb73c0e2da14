// What ListSecurityEvents may ask of the security log: entries of one user, of some kinds, a page of them.
import type { SecurityEvent, SecurityEventKind } from "./security-event.js";

export interface SecurityEventQuery {
  /** Only entries about this user. */
  userId?: string;
  /** Only entries caused by this user. */
  actorId?: string;
  /** Only entries about this organization. */
  organizationId?: string;
  /** Only entries of these kinds; none given: every kind. */
  kinds?: readonly SecurityEventKind[];
  offset: number;
  limit: number;
  /** Oldest first when true; newest first (by last occurrence) otherwise. */
  ascending?: boolean;
}

export interface SecurityEventPage {
  /** All entries that match, not only this page's. */
  total: number;
  events: SecurityEvent[];
}

export interface SecurityLogReader {
  list(query: SecurityEventQuery): Promise<SecurityEventPage>;
}
