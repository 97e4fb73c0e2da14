// Bearer tokens in SQLite, by the hash of the token. Removing the row revokes the token from the next call on.
import type { Statement } from "better-sqlite3";
import { and, asc, eq, ne, sql } from "drizzle-orm";
import type { AccessTokenKind, AccessTokenRecord, AccessTokenStore, ValidAccessToken } from "../../domain/credentials/access-token.js";
import { errors } from "../../domain/errors.js";
import type { UserStatus } from "../../domain/users/user-status.js";
import { isForeignKeyViolation } from "./sqlite-errors.js";
import type { Db } from "./open-database.js";
import { quoted } from "../raw-statement.js";
import { holderGrants } from "../holder-grants.js";
import { accessTokens, members, users } from "./schema.js";
import { type StorageGuard, unmonitoredStorage } from "../storage-health.js";
import { type TokenReadsStamp, type TokenReadsWatch, sameStamp, tokenReadsWatchFor } from "./token-reads-watch.js";

/** Tokens remembered at once, at most: a server's callers are a few services and the people logged in. */
const maxRemembered = 4096;

const record = {
  id: accessTokens.id,
  userId: accessTokens.userId,
  kind: accessTokens.kind,
  createdAt: accessTokens.createdAt,
  expiresAt: accessTokens.expiresAt,
};

export class SqliteAccessTokenStore implements AccessTokenStore {
  private readonly insert;
  private readonly selectValid;
  private readonly deleteOne;
  private readonly deleteLogins;
  private readonly selectByUser;
  private readonly watch: TokenReadsWatch;
  // Lookups found since `rememberedAt`, by token hash; only found ones: an unknown token stays a read each time.
  private remembered = new Map<string, ValidAccessToken>();
  private rememberedAt: TokenReadsStamp | undefined;

  constructor(
    db: Db,
    private readonly storage: StorageGuard = unmonitoredStorage,
  ) {
    this.insert = db
      .insert(accessTokens)
      .values({
        id: sql.placeholder("id"),
        userId: sql.placeholder("userId"),
        tokenHash: sql.placeholder("tokenHash"),
        kind: sql.placeholder("kind"),
        createdAt: sql.placeholder("createdAt"),
        expiresAt: sql.placeholder("expiresAt"),
      })
      .prepare();
    // Every authenticated call looks its token up: a better-sqlite3 statement prepared once, its row mapped by hand,
    // since drizzle's per-call mapping showed in `npm run bench -- --profile`. Names come from schema.ts.
    // The token's holder comes with it (its status and organization are columns of the users projection, its roles
    // one JSON array), so that authentication reads once instead of loading the holder's state and roles.
    const roles =
      `(SELECT json_group_array(json_array(m.${quoted(members.organizationId)}, json(m.${quoted(members.roles)}))) ` +
      `FROM ${quoted(members)} m WHERE m.${quoted(members.userId)} = t.${quoted(accessTokens.userId)})`;
    this.selectValid = db.$client
      .prepare(
        `SELECT ${Object.values(record).map((column) => `t.${quoted(column)}`).join(", ")}, u.${quoted(users.status)}, u.${quoted(users.resourceOwner)}, ${roles} ` +
          `FROM ${quoted(accessTokens)} t JOIN ${quoted(users)} u ON u.${quoted(users.id)} = t.${quoted(accessTokens.userId)} ` +
          `WHERE t.${quoted(accessTokens.tokenHash)} = ? AND t.${quoted(accessTokens.expiresAt)} > ?`,
      )
      .raw() as Statement<[string, number], TokenRow>;
    this.deleteOne = db
      .delete(accessTokens)
      .where(and(eq(accessTokens.id, sql.placeholder("id")), eq(accessTokens.userId, sql.placeholder("userId"))))
      .prepare();
    // No token has an empty id: with nothing to keep, every login token of the user goes.
    this.deleteLogins = db
      .delete(accessTokens)
      .where(
        and(
          eq(accessTokens.userId, sql.placeholder("userId")),
          eq(accessTokens.kind, "login"),
          ne(accessTokens.id, sql.placeholder("keptTokenId")),
        ),
      )
      .prepare();
    this.selectByUser = db
      .select(record)
      .from(accessTokens)
      .where(and(eq(accessTokens.userId, sql.placeholder("userId")), eq(accessTokens.kind, sql.placeholder("kind"))))
      .orderBy(asc(accessTokens.createdAt), asc(accessTokens.id))
      .prepare();
    this.watch = tokenReadsWatchFor(db.$client);
  }

  async add(token: AccessTokenRecord & { tokenHash: string }): Promise<void> {
    try {
      this.storage.write(() => this.insert.run({ ...token }));
    } catch (error) {
      if (isForeignKeyViolation(error)) throw errors.userNotFound();
      throw error;
    }
  }

  /**
   * Every authenticated call looks its token up, and under load the read was the largest single cost of a call in
   * `npm run bench -- --profile`. So a found token is remembered for as long as nothing the read depends on has
   * changed (token-reads-watch.ts): a removed token, a changed role or a deactivated holder still counts from the
   * next call on, whichever process or connection made the change.
   */
  async findValid(tokenHash: string, now: Date): Promise<ValidAccessToken | undefined> {
    return this.storage.use(() => {
      const stamp = this.watch.stamp();
      if (!sameStamp(stamp, this.rememberedAt)) {
        this.remembered = new Map();
        this.rememberedAt = stamp;
      }
      const known = this.remembered.get(tokenHash);
      if (known) return known.expiresAt.getTime() > now.getTime() ? known : undefined;
      const row = this.selectValid.get(tokenHash, now.getTime());
      if (row === undefined) return undefined;
      const found = tokenRecord(row);
      if (this.remembered.size >= maxRemembered) this.remembered.clear();
      this.remembered.set(tokenHash, found);
      return found;
    });
  }

  async remove(userId: string, tokenId: string): Promise<boolean> {
    return this.storage.write(() => this.deleteOne.run({ id: tokenId, userId }).changes > 0);
  }

  async removeLogins(userId: string, keptTokenId = ""): Promise<number> {
    return this.storage.write(() => this.deleteLogins.run({ userId, keptTokenId }).changes);
  }

  async list(userId: string, kind: AccessTokenKind): Promise<AccessTokenRecord[]> {
    return this.storage.use(() => this.selectByUser.all({ userId, kind }));
  }
}

/** A row of selectValid, in the order of `record`, then the holder's (roles as JSON text); times are integer milliseconds. */
type TokenRow = [
  id: string,
  userId: string,
  kind: AccessTokenKind,
  createdAt: number,
  expiresAt: number,
  status: UserStatus,
  organizationId: string,
  roles: string,
];

function tokenRecord([id, userId, kind, createdAt, expiresAt, status, organizationId, roles]: TokenRow): ValidAccessToken {
  const grants = holderGrants(JSON.parse(roles));
  return { id, userId, kind, createdAt: new Date(createdAt), expiresAt: new Date(expiresAt), holder: { status, organizationId, grants } };
}
