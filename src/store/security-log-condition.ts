// ListSecurityEvents' WHERE over the security log, for both dialects: the entries about one user, caused by one, about
// one organization, of some kinds. The table comes from the dialect; the query's meaning is one.
import { type Column, type SQL, and, eq, inArray } from "drizzle-orm";
import type { SecurityEventQuery } from "../domain/security/security-log-query.js";

export function securityLogCondition(
  securityEvents: { userId: Column; actorId: Column; organizationId: Column; kind: Column },
  query: SecurityEventQuery,
): SQL | undefined {
  return and(
    query.userId === undefined ? undefined : eq(securityEvents.userId, query.userId),
    query.actorId === undefined ? undefined : eq(securityEvents.actorId, query.actorId),
    query.organizationId === undefined ? undefined : eq(securityEvents.organizationId, query.organizationId),
    query.kinds?.length ? inArray(securityEvents.kind, [...query.kinds]) : undefined,
  );
}
