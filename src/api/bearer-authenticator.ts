// Resolves a bearer token to the caller, afresh on every call: a removed token, a changed role or a disabled user
// counts from the next call on, since nothing is cached.
import type { MemberStore } from "../domain/access/member.js";
import type { Principal } from "../domain/access/principal.js";
import type { AccessTokenStore } from "../domain/credentials/access-token.js";
import type { Authenticator, Clock, UserStore } from "../domain/ports.js";

export interface BearerAuthenticatorDeps {
  tokens: Pick<AccessTokenStore, "findValid">;
  users: Pick<UserStore, "load">;
  members: Pick<MemberStore, "grantsOf">;
  clock: Clock;
  hashToken(token: string): string;
}

export function createBearerAuthenticator(deps: BearerAuthenticatorDeps): Authenticator {
  return {
    async authenticate(token) {
      const record = await deps.tokens.findValid(deps.hashToken(token), deps.clock.now());
      if (!record) return undefined;
      const user = await deps.users.load(record.userId);
      // Tokens of a deactivated or locked user are refused while it is so, not deleted.
      if (user?.status !== "active") return undefined;
      const grants = await deps.members.grantsOf(user.id);
      const principal: Principal = { userId: user.id, organizationId: user.resourceOwner, ...grants };
      return principal;
    },
  };
}
