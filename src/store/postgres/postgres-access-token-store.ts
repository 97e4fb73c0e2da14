// Bearer tokens in PostgreSQL, by the hash of the token. Removing the row revokes the token from the next call on,
// in every process sharing the database.
import { and, asc, eq, gt } from "drizzle-orm";
import type { AccessTokenKind, AccessTokenRecord, AccessTokenStore, ValidAccessToken } from "../../domain/credentials/access-token.js";
import { type StorageGuard, unmonitoredStorage } from "../storage-health.js";
import type { PgDb } from "./open-postgres.js";
import { accessTokens, users } from "./schema.js";

const record = {
  id: accessTokens.id,
  userId: accessTokens.userId,
  kind: accessTokens.kind,
  createdAt: accessTokens.createdAt,
  expiresAt: accessTokens.expiresAt,
};

export class PostgresAccessTokenStore implements AccessTokenStore {
  constructor(
    private readonly db: PgDb,
    private readonly storage: StorageGuard = unmonitoredStorage,
  ) {}

  async add(token: AccessTokenRecord & { tokenHash: string }): Promise<void> {
    const { id, userId, kind, createdAt, expiresAt, tokenHash } = token;
    await this.storage.write(() => this.db.insert(accessTokens).values({ id, userId, kind, createdAt, expiresAt, tokenHash }));
  }

  async findValid(tokenHash: string, now: Date): Promise<ValidAccessToken | undefined> {
    // The holder's status and organization come with the token (columns of the users projection), so that
    // authentication reads once instead of loading the holder's whole state.
    const [row] = await this.storage.use(() =>
      this.db
        .select({ ...record, status: users.status, organizationId: users.resourceOwner })
        .from(accessTokens)
        .innerJoin(users, eq(users.id, accessTokens.userId))
        .where(and(eq(accessTokens.tokenHash, tokenHash), gt(accessTokens.expiresAt, now))),
    );
    if (row === undefined) return undefined;
    const { status, organizationId, ...token } = row;
    return { ...token, holder: { status, organizationId } };
  }

  async remove(userId: string, tokenId: string): Promise<boolean> {
    const result = await this.storage.write(() =>
      this.db.delete(accessTokens).where(and(eq(accessTokens.id, tokenId), eq(accessTokens.userId, userId))),
    );
    return (result.rowCount ?? 0) > 0;
  }

  async list(userId: string, kind: AccessTokenKind): Promise<AccessTokenRecord[]> {
    return this.storage.use(() =>
      this.db
        .select(record)
        .from(accessTokens)
        .where(and(eq(accessTokens.userId, userId), eq(accessTokens.kind, kind)))
        .orderBy(asc(accessTokens.createdAt), asc(accessTokens.id)),
    );
  }
}
