// Administrators in SQLite: one row per user and resource (organization id, or "" for the instance) with its roles.
import { and, asc, eq, inArray, sql } from "drizzle-orm";
import { type Grants, type Member, type MemberStore, grantsFrom } from "../domain/access/member.js";
import type { Role } from "../domain/access/principal.js";
import { errors } from "../domain/errors.js";
import type { Db } from "./open-database.js";
import { members } from "./schema.js";
import { isUniqueViolation } from "./sqlite-errors.js";
import { type StorageGuard, unmonitoredStorage } from "./storage-health.js";

const placeholder = sql.placeholder;

export class SqliteMemberStore implements MemberStore {
  private readonly selectByUser;
  private readonly insert;
  private readonly updateRoles;
  private readonly deleteOne;

  constructor(
    private readonly db: Db,
    private readonly storage: StorageGuard = unmonitoredStorage,
  ) {
    this.selectByUser = db
      .select({ organizationId: members.organizationId, roles: members.roles })
      .from(members)
      .where(eq(members.userId, placeholder("userId")))
      .prepare();
    this.insert = db
      .insert(members)
      .values({
        userId: placeholder("userId"),
        organizationId: placeholder("organizationId"),
        roles: placeholder("roles"),
        createdAt: placeholder("createdAt"),
        changedAt: placeholder("changedAt"),
      })
      .prepare();
    const atMember = and(eq(members.userId, placeholder("userId")), eq(members.organizationId, placeholder("organizationId")));
    this.updateRoles = db
      .update(members)
      .set({ roles: sql`${placeholder("roles")}`, changedAt: sql`${placeholder("changedAt")}` })
      .where(atMember)
      .prepare();
    this.deleteOne = db.delete(members).where(atMember).prepare();
  }

  async grantsOf(userId: string): Promise<Grants> {
    return this.storage.use(() => grantsFrom(this.selectByUser.all({ userId }).map(asMember)));
  }

  async add(member: Member): Promise<void> {
    try {
      this.storage.write(() => this.insert.run({ ...member }));
    } catch (error) {
      if (isUniqueViolation(error, "members.")) throw errors.administratorExists();
      throw error;
    }
  }

  async update(userId: string, organizationId: string, roles: Role[], at: Date): Promise<boolean> {
    // A placeholder inside sql`` is bound as it is, without the column's encoding.
    return this.storage.write(
      () => this.updateRoles.run({ userId, organizationId, roles: JSON.stringify(roles), changedAt: at.getTime() }).changes > 0,
    );
  }

  async remove(userId: string, organizationId: string): Promise<boolean> {
    return this.storage.write(() => this.deleteOne.run({ userId, organizationId }).changes > 0);
  }

  async list(organizationIds?: readonly string[]): Promise<Member[]> {
    if (organizationIds?.length === 0) return [];
    return this.storage.use(() =>
      this.db
        .select()
        .from(members)
        .where(organizationIds && inArray(members.organizationId, [...organizationIds]))
        .orderBy(asc(members.createdAt), asc(members.userId), asc(members.organizationId))
        .all()
        .map(asMember),
    );
  }
}

// The column holds what this store wrote: role names.
function asMember<T extends { roles: string[] }>(row: T): T & { roles: Role[] } {
  return row as T & { roles: Role[] };
}
