// The user an RPC names, loaded and checked against the call's access rule in one step, so that no handler acts
// on a user before the caller was allowed to know it exists, or changes one who holds roles the caller could not grant.
import type { HandlerContext } from "@connectrpc/connect";
import type { MemberStore } from "../domain/access/member.js";
import { DomainError } from "../domain/errors.js";
import type { UserCommands } from "../domain/user-commands.js";
import type { UserState } from "../domain/user-state.js";
import type { RequestFacts } from "./access-rules.js";
import { authorizeChangeOfAnotherUser, authorizeOnUser, changesAnotherUser } from "./authorization.js";

export interface TargetUserDeps {
  commands: Pick<UserCommands, "getUser">;
  members: Pick<MemberStore, "grantsOf">;
}

/** `notFound`: what to answer instead of USER_NOT_FOUND, for a user that does not exist or that the caller may not see. */
export async function authorizedUser(
  deps: TargetUserDeps,
  ctx: HandlerContext,
  userId: string,
  facts?: RequestFacts,
  notFound?: () => DomainError,
): Promise<UserState> {
  try {
    const state = await deps.commands.getUser(userId);
    const caller = authorizeOnUser(ctx, { userId, organizationId: state.resourceOwner }, facts);
    if (changesAnotherUser(ctx, caller, userId)) authorizeChangeOfAnotherUser(caller, await deps.members.grantsOf(userId));
    return state;
  } catch (error) {
    if (notFound && error instanceof DomainError && error.reason === "USER_NOT_FOUND") throw notFound();
    throw error;
  }
}
