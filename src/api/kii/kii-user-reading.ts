// GET /api/apps/{appID}/users/me and /users/{userID}: the user, as GetUserByID's rule allows (itself, or user.read
// in its organization); an app's own credentials read no one, as in Kii, where anonymous access cannot.
import { type KiiCallDeps, runKiiCall } from "./kii-call.js";
import type { KiiCaller } from "./kii-caller.js";
import { type KiiTargetUserDeps, type KiiUserRef, authorizedKiiUser, userIdOf } from "./kii-target-user.js";
import { type KiiUser, kiiUserOf } from "./kii-user-representation.js";

export interface KiiUserReadingDeps extends KiiTargetUserDeps, KiiCallDeps {
}

export function readKiiUser(deps: KiiUserReadingDeps, caller: KiiCaller, ref: KiiUserRef): Promise<KiiUser> {
  return runKiiCall(deps, "GetUser", caller, async (context) => {
    context.userId = userIdOf(caller, ref);
    return kiiUserOf(await authorizedKiiUser(deps, caller, context.userId, [{ kind: "read" }]));
  });
}
