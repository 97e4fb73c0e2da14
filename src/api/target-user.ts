// The user an RPC names, loaded and checked against the call's access rule in one step, so that no handler acts
// on a user before the caller was allowed to know it exists.
import type { HandlerContext } from "@connectrpc/connect";
import type { UserCommands } from "../domain/user-commands.js";
import type { UserState } from "../domain/user-state.js";
import type { RequestFacts } from "./access-rules.js";
import { authorizeOnUser } from "./authorization.js";

export async function authorizedUser(
  commands: Pick<UserCommands, "getUser">,
  ctx: HandlerContext,
  userId: string,
  facts?: RequestFacts,
): Promise<UserState> {
  const state = await commands.getUser(userId);
  authorizeOnUser(ctx, { userId, organizationId: state.resourceOwner }, facts);
  return state;
}
