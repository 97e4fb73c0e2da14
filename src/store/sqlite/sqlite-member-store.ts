// Administrators in SQLite: one row per user and resource (organization id, or "" for the instance) with its roles.
import type { Statement } from "better-sqlite3";
import { and, asc, eq, inArray, sql } from "drizzle-orm";
import { type Grants, type Member, type MemberStore, grantsFrom } from "../../domain/access/member.js";
import type { Role } from "../../domain/access/principal.js";
import { errors } from "../../domain/errors.js";
import type { Db } from "./open-database.js";
import { quoted } from "../raw-statement.js";
import { members } from "./schema.js";
import { isForeignKeyViolation, isUniqueViolation } from "./sqlite-errors.js";
import { type StorageGuard, unmonitoredStorage } from "../storage-health.js";

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
    // Every authenticated call reads its caller's grants: a better-sqlite3 statement prepared once, its rows mapped by
    // hand, since drizzle's per-call mapping showed in `npm run bench -- --profile`. Names come from schema.ts.
    this.selectByUser = db.$client
      .prepare(`SELECT ${quoted(members.organizationId)}, ${quoted(members.roles)} FROM ${quoted(members)} WHERE ${quoted(members.userId)} = ?`)
      .raw() as Statement<[string], [string, string]>;
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
    return this.storage.use(() => grantsFrom(this.selectByUser.all(userId).map(grantRow)));
  }

  async add(member: Member): Promise<void> {
    try {
      this.storage.write(() => this.insert.run({ ...member }));
    } catch (error) {
      if (isUniqueViolation(error, "members.")) throw errors.administratorExists();
      // The user was deleted after the call found it.
      if (isForeignKeyViolation(error)) throw errors.userNotFound();
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

/** A row of selectByUser: the organization id and the roles as JSON. */
function grantRow([organizationId, roles]: [string, string]): { organizationId: string; roles: Role[] } {
  // The column holds what this store wrote: role names.
  return { organizationId, roles: JSON.parse(roles) as Role[] };
}

// The column holds what this store wrote: role names.
function asMember<T extends { roles: string[] }>(row: T): T & { roles: Role[] } {
  return row as T & { roles: Role[] };
}
