// First start: an IAM_OWNER service account and a token for it, so that the person who started the server can make
// the first calls. Done once per database, even when several processes start on it at the same moment.
import { type MemberStore, instanceResource } from "../domain/access/member.js";
import type { AccessTokenStore, IssuedAccessToken } from "../domain/credentials/access-token.js";
import type { Clock } from "../domain/ports.js";
import type { Logger } from "../logger.js";

export interface BootstrapDeps {
  instance: {
    exclusively<T>(work: () => Promise<T>): Promise<T>;
    isBootstrapped(): boolean;
    markBootstrapped(adminUserId: string, at: Date): void;
  };
  /** Creates the administrator's machine user in the default organization; its id. */
  createAdministrator(account: { username: string; name: string; description: string }): Promise<string>;
  members: Pick<MemberStore, "add">;
  tokens: Pick<AccessTokenStore, "add">;
  issueToken(): IssuedAccessToken;
  newId(): string;
  clock: Clock;
  personalTokenTtlMs: number;
  tokenFile: string;
  writeTokenFile(path: string, token: string): void;
  logger: Logger;
}

export const administratorAccount = {
  username: "admin",
  name: "Administrator",
  description: "Created on first start; its token is in the admin token file",
};

export async function bootstrapInstance(deps: BootstrapDeps): Promise<void> {
  // The token file is written before COMMIT: a failure leaves no administrator whose token nobody has.
  const bootstrapped = await deps.instance.exclusively(async () => {
    if (deps.instance.isBootstrapped()) return false;
    const now = deps.clock.now();
    const userId = await deps.createAdministrator(administratorAccount);
    await deps.members.add({ userId, organizationId: instanceResource, roles: ["IAM_OWNER"], createdAt: now, changedAt: now });
    const { token, tokenHash } = deps.issueToken();
    const expiresAt = new Date(now.getTime() + deps.personalTokenTtlMs);
    await deps.tokens.add({ id: deps.newId(), userId, kind: "personal", createdAt: now, expiresAt, tokenHash });
    deps.instance.markBootstrapped(userId, now);
    deps.writeTokenFile(deps.tokenFile, `${token}\n`);
    return true;
  });
  if (bootstrapped) deps.logger.info("instance bootstrapped: the administrator's token is in the admin token file", { file: deps.tokenFile });
  else deps.logger.info("instance already bootstrapped", { file: deps.tokenFile });
}
