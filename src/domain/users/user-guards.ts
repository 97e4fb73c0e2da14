// Preconditions shared by the commands on one user: contacts and passwords belong to people, and a disabled user's
// contacts stay as they are until the user is active again.
import { errors } from "../errors.js";
import type { HumanUserState, UserState } from "../user-state.js";

export function requireHuman(state: UserState): HumanUserState {
  if (state.kind !== "human") throw errors.userNotHuman();
  return state;
}

export function requireActiveHuman(state: UserState): HumanUserState {
  const human = requireHuman(state);
  if (human.status !== "active") throw errors.userDisabled();
  return human;
}
