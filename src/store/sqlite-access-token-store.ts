// Bearer tokens in SQLite, by the hash of the token. Removing the row revokes the token from the next call on.
import { and, asc, eq, gt, sql } from "drizzle-orm";
import type { AccessTokenKind, AccessTokenRecord, AccessTokenStore } from "../domain/credentials/access-token.js";
import type { Db } from "./open-database.js";
import { accessTokens } from "./schema.js";
import { type StorageGuard, unmonitoredStorage } from "./storage-health.js";

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
  private readonly selectByUser;

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
    this.selectValid = db
      .select(record)
      .from(accessTokens)
      // Conditions bind a placeholder as it is, without the column's encoding: the time goes in as milliseconds.
      .where(and(eq(accessTokens.tokenHash, sql.placeholder("tokenHash")), gt(accessTokens.expiresAt, sql`${sql.placeholder("now")}`)))
      .prepare();
    this.deleteOne = db
      .delete(accessTokens)
      .where(and(eq(accessTokens.id, sql.placeholder("id")), eq(accessTokens.userId, sql.placeholder("userId"))))
      .prepare();
    this.selectByUser = db
      .select(record)
      .from(accessTokens)
      .where(and(eq(accessTokens.userId, sql.placeholder("userId")), eq(accessTokens.kind, sql.placeholder("kind"))))
      .orderBy(asc(accessTokens.createdAt), asc(accessTokens.id))
      .prepare();
  }

  async add(token: AccessTokenRecord & { tokenHash: string }): Promise<void> {
    this.storage.write(() => this.insert.run({ ...token }));
  }

  async findValid(tokenHash: string, now: Date): Promise<AccessTokenRecord | undefined> {
    return this.storage.use(() => this.selectValid.get({ tokenHash, now: now.getTime() }));
  }

  async remove(userId: string, tokenId: string): Promise<boolean> {
    return this.storage.write(() => this.deleteOne.run({ id: tokenId, userId }).changes > 0);
  }

  async list(userId: string, kind: AccessTokenKind): Promise<AccessTokenRecord[]> {
    return this.storage.use(() => this.selectByUser.all({ userId, kind }));
  }
}
