// Administrators in PostgreSQL: one row per user and resource (organization id, or "" for the instance) with its roles.
import { and, asc, eq, inArray } from "drizzle-orm";
import { type Grants, type Member, type MemberStore, grantsFrom } from "../../domain/access/member.js";
import type { Role } from "../../domain/access/principal.js";
import { errors } from "../../domain/errors.js";
import { columnList, quoted } from "../raw-statement.js";
import { type StorageGuard, unmonitoredStorage } from "../storage-health.js";
import { namedStatement, rowsOf } from "./named-statement.js";
import type { PgDb } from "./open-postgres.js";
import { isForeignKeyViolation, isUniqueViolation } from "./postgres-errors.js";
import { members } from "./schema.js";

// Every authenticated call reads the caller's grants: a statement sent by name (named-statement.ts).
const selectGrants = namedStatement(
  "members_grants",
  `SELECT ${columnList([members.organizationId, members.roles])} FROM ${quoted(members)} WHERE ${quoted(members.userId)} = $1`,
);

export class PostgresMemberStore implements MemberStore {
  constructor(
    private readonly db: PgDb,
    private readonly storage: StorageGuard = unmonitoredStorage,
  ) {}

  async grantsOf(userId: string): Promise<Grants> {
    const rows = await this.storage.use(() => rowsOf<[string, string[]]>(this.db.$client, selectGrants, [userId]));
    return grantsFrom(rows.map(([organizationId, roles]) => asMember({ organizationId, roles })));
  }

  async add(member: Member): Promise<void> {
    const { userId, organizationId, roles, createdAt, changedAt } = member;
    try {
      await this.storage.write(() => this.db.insert(members).values({ userId, organizationId, roles, createdAt, changedAt }));
    } catch (error) {
      if (isUniqueViolation(error, "members_pkey")) throw errors.administratorExists();
      // The user was deleted after the call found it.
      if (isForeignKeyViolation(error, "members_user_id_users_id_fk")) throw errors.userNotFound();
      throw error;
    }
  }

  async update(userId: string, organizationId: string, roles: Role[], at: Date): Promise<boolean> {
    const result = await this.storage.write(() =>
      this.db
        .update(members)
        .set({ roles, changedAt: at })
        .where(and(eq(members.userId, userId), eq(members.organizationId, organizationId))),
    );
    return (result.rowCount ?? 0) > 0;
  }

  async remove(userId: string, organizationId: string): Promise<boolean> {
    const result = await this.storage.write(() =>
      this.db.delete(members).where(and(eq(members.userId, userId), eq(members.organizationId, organizationId))),
    );
    return (result.rowCount ?? 0) > 0;
  }

  async list(organizationIds?: readonly string[]): Promise<Member[]> {
    if (organizationIds?.length === 0) return [];
    const rows = await this.storage.use(() =>
      this.db
        .select()
        .from(members)
        .where(organizationIds && inArray(members.organizationId, [...organizationIds]))
        .orderBy(asc(members.createdAt), asc(members.userId), asc(members.organizationId)),
    );
    return rows.map(asMember);
  }
}

// The column holds what this store wrote: role names.
function asMember<T extends { roles: string[] }>(row: T): T & { roles: Role[] } {
  return row as T & { roles: Role[] };
}
