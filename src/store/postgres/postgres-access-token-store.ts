// Bearer tokens in PostgreSQL, by the hash of the token. Removing the row revokes the token from the next call on,
// in every process sharing the database.
import { and, asc, eq, ne } from "drizzle-orm";
import type { AccessTokenKind, AccessTokenRecord, AccessTokenStore, ValidAccessToken } from "../../domain/credentials/access-token.js";
import { errors } from "../../domain/errors.js";
import { qualified, quoted } from "../raw-statement.js";
import { isForeignKeyViolation } from "./postgres-errors.js";
import { type StorageGuard, unmonitoredStorage } from "../storage-health.js";
import { namedStatement, rowsOf } from "./named-statement.js";
import type { PgDb } from "./open-postgres.js";
import { type MembershipPairs, holderGrants } from "../holder-grants.js";
import { accessTokens, members, users } from "./schema.js";

const record = {
  id: accessTokens.id,
  userId: accessTokens.userId,
  kind: accessTokens.kind,
  createdAt: accessTokens.createdAt,
  expiresAt: accessTokens.expiresAt,
};

// Every authenticated call finds its token: a statement sent by name (named-statement.ts). The holder's status and
// organization come with the token (columns of the users projection), so that authentication reads once instead of
// loading the holder's whole state.
const validColumns = [
  accessTokens.id,
  accessTokens.userId,
  accessTokens.kind,
  accessTokens.createdAt,
  accessTokens.expiresAt,
  users.status,
  users.resourceOwner,
];
type ValidRow = [
  id: string,
  userId: string,
  kind: AccessTokenKind,
  createdAt: Date,
  expiresAt: Date,
  status: ValidAccessToken["holder"]["status"],
  organizationId: string,
  roles: MembershipPairs,
];
// The holder's roles as one JSON array, which node-postgres parses.
const roles =
  `(SELECT coalesce(json_agg(json_build_array(m.${quoted(members.organizationId)}, m.${quoted(members.roles)})), '[]'::json) ` +
  `FROM ${quoted(members)} m WHERE m.${quoted(members.userId)} = ${qualified(accessTokens.userId)})`;
const selectValid = namedStatement(
  "access_tokens_valid",
  `SELECT ${validColumns.map(qualified).join(", ")}, ${roles} FROM ${quoted(accessTokens)} ` +
    `JOIN ${quoted(users)} ON ${qualified(users.id)} = ${qualified(accessTokens.userId)} ` +
    `WHERE ${qualified(accessTokens.tokenHash)} = $1 AND ${qualified(accessTokens.expiresAt)} > $2`,
);

export class PostgresAccessTokenStore implements AccessTokenStore {
  constructor(
    private readonly db: PgDb,
    private readonly storage: StorageGuard = unmonitoredStorage,
  ) {}

  async add(token: AccessTokenRecord & { tokenHash: string }): Promise<void> {
    const { id, userId, kind, createdAt, expiresAt, tokenHash } = token;
    try {
      await this.storage.write(() => this.db.insert(accessTokens).values({ id, userId, kind, createdAt, expiresAt, tokenHash }));
    } catch (error) {
      if (isForeignKeyViolation(error, "access_tokens_user_id_users_id_fk")) throw errors.userNotFound();
      throw error;
    }
  }

  async findValid(tokenHash: string, now: Date): Promise<ValidAccessToken | undefined> {
    const [row] = await this.storage.use(() => rowsOf<ValidRow>(this.db.$client, selectValid, [tokenHash, now]));
    if (row === undefined) return undefined;
    const [id, userId, kind, createdAt, expiresAt, status, organizationId, pairs] = row;
    return { id, userId, kind, createdAt, expiresAt, holder: { status, organizationId, grants: holderGrants(pairs) } };
  }

  async remove(userId: string, tokenId: string): Promise<boolean> {
    const result = await this.storage.write(() =>
      this.db.delete(accessTokens).where(and(eq(accessTokens.id, tokenId), eq(accessTokens.userId, userId))),
    );
    return (result.rowCount ?? 0) > 0;
  }

  async removeLogins(userId: string, keptTokenId = ""): Promise<number> {
    const result = await this.storage.write(() =>
      this.db
        .delete(accessTokens)
        .where(and(eq(accessTokens.userId, userId), eq(accessTokens.kind, "login"), ne(accessTokens.id, keptTokenId))),
    );
    return result.rowCount ?? 0;
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
