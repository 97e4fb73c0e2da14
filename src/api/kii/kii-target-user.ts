// The user a Kii path names ("me" or a user id), loaded and checked against the caller's access in one step, so
// that nothing acts on a user before the caller was allowed to know it exists.
import { takeoverError } from "../../domain/access/access-decisions.js";
import type { MemberStore } from "../../domain/access/member.js";
import { holdsControlCharacter } from "../../domain/control-characters.js";
import { type DomainError, errors } from "../../domain/errors.js";
import type { UserCommands } from "../../domain/user-commands.js";
import type { HumanUserState } from "../../domain/user-state.js";
import { type KiiUserOperation, kiiChangesAnotherUser, kiiUserAccessError } from "./kii-access.js";
import type { KiiCaller } from "./kii-caller.js";

export type KiiUserRef = { kind: "me" } | { kind: "id"; userId: string };

export interface KiiTargetUserDeps {
  commands: Pick<UserCommands, "getUser">;
  members: Pick<MemberStore, "grantsOf">;
}

/** The id a reference stands for; "me" needs a user's token, since an app is nobody. */
export function userIdOf(caller: KiiCaller, ref: KiiUserRef): string {
  if (ref.kind === "id") return ref.userId;
  if (caller.kind === "application") throw errors.unauthenticated();
  return caller.principal.userId;
}

/** The user, when the caller may do every one of `operations` to it. */
export async function authorizedKiiUser(
  deps: KiiTargetUserDeps,
  caller: KiiCaller,
  userId: string,
  operations: readonly KiiUserOperation[],
): Promise<HumanUserState> {
  // An id with a control character is no user's (control-characters.ts): answered as any id nobody has, without
  // asking the store.
  if (holdsControlCharacter(userId)) throw errors.userNotFound();
  const state = await deps.commands.getUser(userId);
  // Kii's users are people: to Kii's API a service account is no user at all, answered as a missing one before any
  // check of the caller's access, whose refusal (or the takeover check's) would tell which ids are service accounts.
  if (state.kind !== "human") throw errors.userNotFound();
  const target = { userId, organizationId: state.resourceOwner };
  for (const operation of operations) throwIf(kiiUserAccessError(caller, target, operation));
  if (caller.kind === "user" && operations.some((operation) => kiiChangesAnotherUser(caller, target, operation))) {
    throwIf(takeoverError(caller.principal, await deps.members.grantsOf(userId)));
  }
  return state;
}

function throwIf(error: DomainError | undefined): void {
  if (error) throw error;
}
