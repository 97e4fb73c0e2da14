// First start: an IAM_OWNER service account and a token for it, so that the person who started the server can make
// the first calls. Done once per database, even when several processes start on it at the same moment.
import { existsSync, rmSync } from "node:fs";
import type { SecurityRecorder } from "../api/security-recorder.js";
import { type MemberStore, instanceResource } from "../domain/access/member.js";
import type { AccessTokenStore, IssuedAccessToken } from "../domain/credentials/access-token.js";
import type { Clock } from "../domain/ports.js";
import type { Logger } from "../logger.js";

/** The record that the instance was bootstrapped, and the lock under which it is done once across processes. */
export interface InstanceStore {
  /** Runs `work` while no other process (or command) can run its own `exclusively`. */
  exclusively<T>(work: () => Promise<T>): Promise<T>;
  isBootstrapped(): Promise<boolean>;
  /** The IAM_OWNER service account the first start created; undefined before it. */
  administratorId(): Promise<string | undefined>;
  markBootstrapped(adminUserId: string, at: Date): Promise<void>;
}

export interface BootstrapDeps {
  instance: InstanceStore;
  /** Creates the administrator's machine user in the default organization; its id. */
  createAdministrator(account: { username: string; name: string; description: string }): Promise<string>;
  /** The id of a machine user of the default organization with this username, if there is one. */
  findAdministrator(username: string): Promise<string | undefined>;
  members: Pick<MemberStore, "add" | "grantsOf">;
  tokens: Pick<AccessTokenStore, "add" | "remove">;
  issueToken(): IssuedAccessToken;
  newId(): string;
  clock: Clock;
  personalTokenTtlMs: number;
  tokenFile: string;
  writeTokenFile(path: string, token: string): void;
  recordSecurityEvent: SecurityRecorder;
  logger: Logger;
}

export const administratorAccount = {
  username: "admin",
  name: "Administrator",
  description: "Created on first start; its token is in the admin token file",
};

export async function bootstrapInstance(deps: BootstrapDeps): Promise<void> {
  // The token file is written before COMMIT: a failure leaves no administrator whose token nobody has.
  let tokenFileWritten = false;
  const writeTokenFile = (token: string) => {
    deps.writeTokenFile(deps.tokenFile, `${token}\n`);
    tokenFileWritten = true;
  };
  const bootstrapped = await deps.instance.exclusively(async () => {
    if (await deps.instance.isBootstrapped()) return undefined;
    const now = deps.clock.now();
    // On PostgreSQL these writes are not one transaction: a start that failed half-way left its administrator
    // behind, and this one carries on with it (on SQLite the failed start's transaction left nothing).
    const userId =
      (await deps.findAdministrator(administratorAccount.username)) ?? (await deps.createAdministrator(administratorAccount));
    if (!(await deps.members.grantsOf(userId)).instanceRoles.includes("IAM_OWNER")) {
      await deps.members.add({ userId, organizationId: instanceResource, roles: ["IAM_OWNER"], createdAt: now, changedAt: now });
    }
    // Before the mark: a start that cannot write the file has not bootstrapped, and the next one tries again.
    const { tokenId } = await issueAdministratorToken(deps, userId, now, writeTokenFile);
    await deps.instance.markBootstrapped(userId, now);
    return { userId, tokenId };
  }).catch((error: unknown) => {
    // A failed COMMIT (a full disk) voids the token in the file, and the next start would refuse the file as another
    // database's, since this one has no administrator.
    if (tokenFileWritten) rmSync(deps.tokenFile, { force: true });
    throw error;
  });
  if (bootstrapped) {
    // After COMMIT: the log records what happened, and cannot undo the bootstrap by failing.
    const { userId, tokenId } = bootstrapped;
    await deps.recordSecurityEvent({
      kind: "roles.changed",
      userId,
      detail: { change: "created", organizationId: instanceResource, roles: "IAM_OWNER", origin: "bootstrap" },
    });
    await deps.recordSecurityEvent({ kind: "token.created", userId, detail: { tokenId, kind: "personal", origin: "bootstrap" } });
    deps.logger.info("instance bootstrapped: the administrator's token is in the admin token file", { file: deps.tokenFile });
  } else if (existsSync(deps.tokenFile)) {
    deps.logger.info("instance already bootstrapped", { file: deps.tokenFile });
  } else {
    // Another instance bootstrapped, or this database was restored here: the token file is elsewhere, or gone.
    deps.logger.info("instance already bootstrapped; no admin token file here: make a token with `verifyd admin token`", {
      expectedFile: deps.tokenFile,
    });
  }
}

export type AdministratorTokenDeps = Pick<BootstrapDeps, "tokens" | "issueToken" | "newId" | "personalTokenTtlMs">;

/**
 * A personal access token for the administrator, of the configured lifetime; only its hash is stored. `handOver`
 * gives the token to whoever asked (a file); if it fails, the token is removed again. On SQLite the surrounding
 * transaction would undo it anyway, but PostgreSQL's `exclusively` is a lock, not a transaction, and a token nobody
 * holds would stay listed as an IAM_OWNER credential.
 */
export async function issueAdministratorToken(
  deps: AdministratorTokenDeps,
  userId: string,
  now: Date,
  handOver: (token: string) => void,
): Promise<{ tokenId: string; token: string; expiresAt: Date }> {
  const { token, tokenHash } = deps.issueToken();
  const expiresAt = new Date(now.getTime() + deps.personalTokenTtlMs);
  const tokenId = deps.newId();
  await deps.tokens.add({ id: tokenId, userId, kind: "personal", createdAt: now, expiresAt, tokenHash });
  try {
    handOver(token);
  } catch (error) {
    await deps.tokens.remove(userId, tokenId);
    throw error;
  }
  return { tokenId, token, expiresAt };
}
