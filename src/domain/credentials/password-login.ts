// The password grant: a login name and a password for a bearer token. Every refusal costs one password verify,
// whether or not the name belongs to anybody, so neither the answer nor its timing tells which names exist.
import type { Clock } from "../ports.js";
import type { IdGenerator } from "../ids.js";
import type { PhonePolicy } from "../phone-number.js";
import type { UserState } from "../user-state.js";
import type { AccessTokenStore, IssuedAccessToken } from "./access-token.js";
import { type LoginName, parseLoginName } from "./login-name.js";
import { type LoginFailures, loginRetryAfterMs } from "./login-throttle.js";
import type { PasswordHasher } from "./password.js";

export interface LoginStore {
  /**
   * The users whose username, verified phone or verified email is this name, within one organization when given;
   * pending addresses never match.
   */
  findByLoginName(name: LoginName, organizationId?: string): Promise<UserState[]>;
  /**
   * Unless `retryAfterMs` says to wait, counts this attempt as a failure (undone by clearFailures on success), in
   * one transaction with the check, so parallel guesses cannot all pass one check. Returns the wait; 0 if admitted.
   */
  admitAttempt(key: string, now: Date, retryAfterMs: (record: LoginFailures | undefined, now: Date) => number): Promise<number>;
  clearFailures(key: string): Promise<void>;
}

export interface PasswordLoginDeps {
  logins: LoginStore;
  passwords: PasswordHasher;
  tokens: AccessTokenStore;
  issueToken: () => IssuedAccessToken;
  newId: IdGenerator;
  clock: Clock;
  tokenTtlMs: number;
  phone: PhonePolicy;
}

export type LoginResult =
  | { outcome: "granted"; userId: string; token: string; expiresInSeconds: number }
  /** Wrong password, unknown or ambiguous name, or a user who may not log in: deliberately indistinguishable. */
  | { outcome: "refused" }
  | { outcome: "throttled"; retryAfterSeconds: number };

export class PasswordLogin {
  constructor(private readonly deps: PasswordLoginDeps) {}

  /**
   * Names and verified addresses are unique within an organization only: a name two organizations share logs in
   * neither, unless the login names its organization, which no other organization can then get in the way of.
   * A scoped login is throttled apart from the unscoped one for the same reason.
   */
  async login(loginName: string, password: string, organizationId?: string): Promise<LoginResult> {
    const { logins, passwords, clock } = this.deps;
    const name = parseLoginName(loginName, this.deps.phone);
    const throttleKey = organizationId === undefined ? name.key : JSON.stringify([organizationId, name.key]);
    const now = clock.now();
    const waitMs = await logins.admitAttempt(throttleKey, now, loginRetryAfterMs);
    if (waitMs > 0) return { outcome: "throttled", retryAfterSeconds: Math.ceil(waitMs / 1000) };
    const account = loginAccount(await logins.findByLoginName(name, organizationId));
    const verified = account ? await passwords.verify(account.passwordHash, password) : await passwords.verifyNobody(password);
    if (!account || !verified) return { outcome: "refused" };
    await logins.clearFailures(throttleKey);
    return this.grant(account.userId, now);
  }

  private async grant(userId: string, now: Date): Promise<LoginResult> {
    const { token, tokenHash } = this.deps.issueToken();
    const expiresAt = new Date(now.getTime() + this.deps.tokenTtlMs);
    await this.deps.tokens.add({ id: this.deps.newId(), userId, kind: "login", createdAt: now, expiresAt, tokenHash });
    return { outcome: "granted", userId, token, expiresInSeconds: Math.floor(this.deps.tokenTtlMs / 1000) };
  }
}

/**
 * The one user a login name logs in, if any: exactly one match (a name shared by two users logs in neither), an
 * active person with a password. Service accounts use personal access tokens.
 */
export function loginAccount(matches: readonly UserState[]): { userId: string; passwordHash: string } | undefined {
  const [only, ...others] = matches;
  if (!only || others.length > 0) return undefined;
  if (only.kind !== "human" || only.status !== "active" || only.passwordHash === undefined) return undefined;
  return { userId: only.id, passwordHash: only.passwordHash };
}
