// The user aggregate's state, rebuilt by folding its events. The same fold produces the stored projection, so the
// projection can always be checked against a replay of the events. It holds facts only, no policy: what a state
// allows (a lockout, for instance) is decided from it with the policy of the day.
import { type Profile, type UserEvent, parseContactEventType } from "./events.js";
import { type UserStatus, isStatusEventType, statusAfter } from "./users/user-status.js";

export interface PendingCode {
  hash: string;
  keyId: string;
  /** The address the code was created for; a code never verifies another address. */
  destination: string;
  expiresAt: Date;
  failedAttempts: number;
}

export interface ContactState {
  /** The verified address: the one that counts for login. It stays until a changed address is verified. */
  verified?: string;
  /** An address that awaits verification: a first address, or a change of a verified one. */
  pending?: string;
  code?: PendingCode;
  /** Wrong codes in a row, across codes and addresses; only a verification resets it. */
  failureStreak: number;
  /** When the last wrong code came. */
  lastFailureAt?: Date;
}

interface UserBase {
  id: string;
  resourceOwner: string;
  username: string;
  status: UserStatus;
  sequence: number;
  createdAt: Date;
  changedAt: Date;
}

export interface HumanUserState extends UserBase {
  kind: "human";
  profile: Profile;
  phone: ContactState;
  email: ContactState;
  /** argon2id PHC string; absent until a password is set. */
  passwordHash?: string;
}

/** A service account: it authenticates with personal access tokens, never with a password or a contact. */
export interface MachineUserState extends UserBase {
  kind: "machine";
  name: string;
  description: string;
}

export type UserState = HumanUserState | MachineUserState;

const emptyContact = (): ContactState => ({ failureStreak: 0 });

export function replay(events: readonly UserEvent[]): UserState | undefined {
  let state: UserState | undefined;
  for (const event of events) state = apply(state, event);
  return state;
}

// A state is never changed in place: each event makes a new one. A field that the old state lacks is added with
// Object.assign onto a new object, never written after a spread (`{ ...state, passwordHash }`): on Node 20, every
// field written after a spread in an object literal took 0.35–0.6 µs (README, performance, step 41).
export function apply(state: UserState | undefined, event: UserEvent): UserState {
  const stamp = { sequence: event.sequence, changedAt: event.createdAt };
  if (event.type === "user.human.added" || event.type === "user.machine.added") {
    const base = { id: event.aggregateId, resourceOwner: event.resourceOwner, status: "active" as const, createdAt: event.createdAt, ...stamp };
    if (event.type === "user.machine.added") return Object.assign(base, { kind: "machine" as const }, event.payload);
    const { username, profile, email, phone } = event.payload;
    return Object.assign(base, {
      kind: "human" as const,
      username,
      profile,
      phone: phone ? { failureStreak: 0, pending: phone } : emptyContact(),
      email: email ? { failureStreak: 0, pending: email } : emptyContact(),
    });
  }
  if (!state) throw new Error(`event ${event.type} before the user was added for ${event.aggregateId}`);
  if (isStatusEventType(event.type)) return { ...state, status: statusAfter[event.type], ...stamp };
  if (state.kind !== "human") throw new Error(`event ${event.type} on service account ${event.aggregateId}`);
  if (event.type === "user.human.password.changed") return Object.assign({}, state, { passwordHash: event.payload.encodedHash }, stamp);
  const contactEvent = parseContactEventType(event.type);
  if (!contactEvent) throw new Error(`unknown event type ${event.type}`);
  const { channel } = contactEvent;
  return { ...state, [channel]: applyToContact(state[channel], event), ...stamp };
}

function applyToContact(contact: ContactState, event: UserEvent): ContactState {
  switch (event.type) {
    case "user.human.phone.changed":
    case "user.human.email.changed": {
      const { code: _dropped, pending: _replaced, ...rest } = contact;
      // Changing back to the verified address just cancels the pending change.
      return event.payload.value === contact.verified ? rest : Object.assign({}, rest, { pending: event.payload.value });
    }
    case "user.human.phone.code.added":
    case "user.human.email.code.added": {
      const { hash, keyId, expiresAt } = event.payload;
      // A code is only ever issued for a pending address.
      const code: PendingCode = { hash, keyId, destination: contact.pending ?? "", expiresAt: new Date(expiresAt), failedAttempts: 0 };
      return Object.assign({}, contact, { code });
    }
    // Whether a code reached the person changes nothing it may do: a code that failed to go out stays valid, since an
    // operator may still retry its message.
    case "user.human.phone.code.sent":
    case "user.human.email.code.sent":
    case "user.human.phone.code.send.failed":
    case "user.human.email.code.send.failed":
      return contact;
    case "user.human.phone.verified":
    case "user.human.email.verified":
      return { failureStreak: 0, verified: event.payload.value };
    case "user.human.phone.verification.failed":
    case "user.human.email.verification.failed":
      return applyFailure(contact, event.payload.reason, event.createdAt);
    case "user.human.phone.removed":
    case "user.human.email.removed": {
      // The failure count outlives the address, so removing and re-adding a locked contact does not unlock it.
      const { failureStreak, lastFailureAt } = contact;
      return { failureStreak, ...(lastFailureAt ? { lastFailureAt } : {}) };
    }
    default:
      throw new Error(`unknown event type ${event.type}`);
  }
}

/** A right code for an address another user verified first: used up, though not a guess. */
const spendingReasons = new Set(["PHONE_ALREADY_IN_USE", "EMAIL_ALREADY_IN_USE"]);

/**
 * Only a wrong code is a guess. Other failures (expired, dead or missing code, lockout) are refused before any
 * comparison and have no event today; older databases hold such events, which neither use up a code nor extend a
 * lockout. Time alone never resets
 * the streak: a guesser who waits out each lockout must not get a fresh allowance of guesses.
 */
function applyFailure(contact: ContactState, reason: string, at: Date): ContactState {
  if (spendingReasons.has(reason)) {
    const { code: _spent, ...rest } = contact;
    return rest;
  }
  if (reason !== "INVALID_VERIFICATION_CODE" || !contact.code) return contact;
  return Object.assign({}, contact, {
    code: { ...contact.code, failedAttempts: contact.code.failedAttempts + 1 },
    failureStreak: contact.failureStreak + 1,
    lastFailureAt: at,
  });
}

/** What GetUserByID shows: the verified address while a change is pending, so login identity stays put. */
export function visibleContact(contact: ContactState): { value: string; isVerified: boolean; pending?: string } {
  if (contact.verified !== undefined) {
    return { value: contact.verified, isVerified: true, ...(contact.pending ? { pending: contact.pending } : {}) };
  }
  return { value: contact.pending ?? "", isVerified: false };
}

