// Bearer tokens: what a personal access token or a password login hands out. Only a hash is stored; the token itself
// is shown once.

import type { Grants } from "../access/member.js";
import type { UserStatus } from "../users/user-status.js";

export type AccessTokenKind = "personal" | "login";

export interface AccessTokenRecord {
  id: string;
  userId: string;
  kind: AccessTokenKind;
  createdAt: Date;
  expiresAt: Date;
}

export interface ValidAccessToken extends AccessTokenRecord {
  /** Read with the token, so that authentication is one read: the holder's status, organization and roles. */
  holder: { status: UserStatus; organizationId: string; grants: Grants };
}

/** A freshly made token: the secret for the caller, and the hash that is all the store keeps. */
export interface IssuedAccessToken {
  token: string;
  tokenHash: string;
}

export interface AccessTokenStore {
  /** Throws USER_NOT_FOUND when the user is gone: deleted after the call that makes the token found it. */
  add(record: AccessTokenRecord & { tokenHash: string }): Promise<void>;
  /** The unexpired token with this hash and where its holder stands, or undefined (also when the holder is gone). */
  findValid(tokenHash: string, now: Date): Promise<ValidAccessToken | undefined>;
  /** Removes one of the user's tokens; false when the user has no such token. */
  remove(userId: string, tokenId: string): Promise<boolean>;
  /** Removes the user's login tokens but `keptTokenId`'s; how many it removed. */
  removeLogins(userId: string, keptTokenId?: string): Promise<number>;
  list(userId: string, kind: AccessTokenKind): Promise<AccessTokenRecord[]>;
}
