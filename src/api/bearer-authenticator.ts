// Resolves a bearer token to the caller on every call: a removed token, a changed role or a disabled user counts from
// the next call on (a store that remembers lookups must keep this true; see the SQLite one's token-reads-watch.ts).
import type { Principal } from "../domain/access/principal.js";
import type { AccessTokenStore } from "../domain/credentials/access-token.js";
import type { Authenticator, Clock } from "../domain/ports.js";

export interface BearerAuthenticatorDeps {
  tokens: Pick<AccessTokenStore, "findValid">;
  clock: Clock;
  hashToken(token: string): string;
}

export function createBearerAuthenticator(deps: BearerAuthenticatorDeps): Authenticator {
  return {
    async authenticate(token) {
      const record = await deps.tokens.findValid(deps.hashToken(token), deps.clock.now());
      // Tokens of a deactivated or locked user are refused while it is so, not deleted.
      if (record?.holder.status !== "active") return undefined;
      const { organizationId, grants } = record.holder;
      const principal: Principal = { userId: record.userId, tokenId: record.id, organizationId, ...grants };
      return principal;
    },
  };
}
