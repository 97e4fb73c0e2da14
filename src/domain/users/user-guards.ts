// Preconditions shared by the commands on one user: contacts and passwords belong to people, and a disabled user's
// contacts stay as they are until the user is active again.
import { type Channel, type DomainError, errors } from "../errors.js";
import type { HumanUserState, UserState } from "../user-state.js";

/**
 * The user, a person; for a service account, `notHuman`'s error. A call about a phone or an email passes
 * `contactOf(channel)`: to ZITADEL's clients, a service account's phone is NotFound, as ZITADEL answers.
 */
export function requireHuman(state: UserState, notHuman: () => DomainError = errors.userNotHuman): HumanUserState {
  if (state.kind !== "human") throw notHuman();
  return state;
}

export function requireActiveHuman(state: UserState, notHuman?: () => DomainError): HumanUserState {
  const human = requireHuman(state, notHuman);
  if (human.status !== "active") throw errors.userDisabled();
  return human;
}

/** What a phone or email call answers for a service account. */
export function contactOf(channel: Channel): () => DomainError {
  return () => errors.contactOfServiceAccount(channel);
}
