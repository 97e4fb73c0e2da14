// The password grant: a login name and a password for a bearer token. Every refusal costs one password verify,
// whether or not the name belongs to anybody, so neither the answer nor its timing tells which names exist.
import { DomainError } from "../errors.js";
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
  /** Undoes one admitted attempt whose password was never checked; a count already cleared stays cleared. */
  forgetAttempt(key: string): Promise<void>;
}

/**
 * Runs the password check of an attempt admitted under `key`, and forgets the attempt when the check is refused as
 * busy: a password never checked is no guess, and counting it locked out a person retrying the right password while
 * a flood of other logins kept the checks busy.
 */
export async function checkAdmittedAttempt<T>(logins: Pick<LoginStore, "forgetAttempt">, key: string, check: () => Promise<T>): Promise<T> {
  try {
    return await check();
  } catch (error) {
    if (error instanceof DomainError && error.reason === "PASSWORD_CHECKS_BUSY") await logins.forgetAttempt(key);
    throw error;
  }
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

/** Why a login was refused: for the security log only, never for the client, who gets one answer for all. */
export type LoginRefusal =
  | "LOGIN_NAME_UNKNOWN"
  /** Users of two organizations share the name, and the login named no organization. */
  | "LOGIN_NAME_AMBIGUOUS"
  | "USER_NOT_HUMAN"
  | "NO_PASSWORD"
  /** Deactivated or locked. */
  | "USER_DISABLED"
  | "PASSWORD_INVALID";

export type LoginResult =
  | { outcome: "granted"; userId: string; organizationId: string; token: string; expiresInSeconds: number }
  /**
   * Wrong password, unknown or ambiguous name, or a user who may not log in: indistinguishable to the client, who is
   * told none of `reason`, `userId` and `organizationId` (the one user the name matched, if it matched exactly one).
   */
  | { outcome: "refused"; reason: LoginRefusal; userId?: string; organizationId?: string }
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
    if ("refusal" in account) {
      await checkAdmittedAttempt(logins, throttleKey, () => passwords.verifyNobody(password));
      const { refusal, ...matched } = account;
      return { outcome: "refused", reason: refusal, ...matched };
    }
    if (!(await checkAdmittedAttempt(logins, throttleKey, () => passwords.verify(account.passwordHash, password)))) {
      return { outcome: "refused", reason: "PASSWORD_INVALID", userId: account.userId, organizationId: account.organizationId };
    }
    await logins.clearFailures(throttleKey);
    return this.grant(account, now);
  }

  private async grant({ userId, organizationId }: { userId: string; organizationId: string }, now: Date): Promise<LoginResult> {
    const { token, tokenHash } = this.deps.issueToken();
    const expiresAt = new Date(now.getTime() + this.deps.tokenTtlMs);
    try {
      await this.deps.tokens.add({ id: this.deps.newId(), userId, kind: "login", createdAt: now, expiresAt, tokenHash });
    } catch (error) {
      // Deleted between the password check and the token: as if the name had not been found.
      if (error instanceof DomainError && error.reason === "USER_NOT_FOUND") {
        return { outcome: "refused", reason: "LOGIN_NAME_UNKNOWN", userId, organizationId };
      }
      throw error;
    }
    return { outcome: "granted", userId, organizationId, token, expiresInSeconds: Math.floor(this.deps.tokenTtlMs / 1000) };
  }
}

/**
 * The one user a login name logs in, or why none: exactly one match (a name shared by two users logs in neither), an
 * active person with a password. Service accounts use personal access tokens.
 */
export function loginAccount(
  matches: readonly UserState[],
):
  | { userId: string; organizationId: string; passwordHash: string }
  | { refusal: Exclude<LoginRefusal, "PASSWORD_INVALID">; userId?: string; organizationId?: string } {
  const [only, ...others] = matches;
  if (!only) return { refusal: "LOGIN_NAME_UNKNOWN" };
  if (others.length > 0) return { refusal: "LOGIN_NAME_AMBIGUOUS" };
  const matched = { userId: only.id, organizationId: only.resourceOwner };
  if (only.kind !== "human") return { refusal: "USER_NOT_HUMAN", ...matched };
  if (only.status !== "active") return { refusal: "USER_DISABLED", ...matched };
  if (only.passwordHash === undefined) return { refusal: "NO_PASSWORD", ...matched };
  return { ...matched, passwordHash: only.passwordHash };
}
