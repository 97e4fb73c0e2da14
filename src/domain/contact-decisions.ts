// Pure decisions for one contact channel (phone or email): given the user's state, what happens next.
// Both channels share this one state machine; only addresses and message texts differ.
import { type Channel, type DomainError, contactInUseReason, errors } from "./errors.js";
import type { EventBody } from "./events.js";
import type { ContactState } from "./user-state.js";
import type { CodeHasher, CodePolicy } from "./verification-code.js";

/** When a contact stops accepting codes after wrong ones. */
export interface FailurePolicy {
  /** Wrong codes in a row per contact after which verification is refused for a while. */
  maxConsecutiveFailures: number;
  /** The first lockout, counted from the last wrong code; each wrong code after it doubles the lockout. */
  lockoutMs: number;
}

/** How a new address is to be confirmed. */
export type Verification = { kind: "send"; urlTemplate?: string } | { kind: "return" } | { kind: "verified" };

export type CodeRequest = Exclude<Verification, { kind: "verified" }>;

export interface IssuedCode {
  plain: string;
  hash: string;
  keyId: string;
  expiresAt: Date;
}

const type = <T extends string>(channel: Channel, action: T) => `user.human.${channel}.${action}` as const;

export function changedEvent(channel: Channel, value: string): EventBody {
  return { type: type(channel, "changed"), payload: { value } };
}

export function verifiedEvent(channel: Channel, value: string): EventBody {
  return { type: type(channel, "verified"), payload: { value } };
}

export function codeAddedEvent(channel: Channel, code: IssuedCode, request: CodeRequest): EventBody {
  const urlTemplate = request.kind === "send" ? request.urlTemplate : undefined;
  return {
    type: type(channel, "code.added"),
    payload: {
      hash: code.hash,
      keyId: code.keyId,
      expiresAt: code.expiresAt.toISOString(),
      delivery: request.kind,
      ...(urlTemplate === undefined ? {} : { urlTemplate }),
    },
  };
}

export function removedEvent(channel: Channel): EventBody {
  return { type: type(channel, "removed"), payload: {} };
}

export function failedEvent(channel: Channel, reason: string): EventBody {
  return { type: type(channel, "verification.failed"), payload: { reason } };
}

/** A right code for an address another user of the organization verified first: the code is used up, nothing verified. */
export function spentEvent(channel: Channel): EventBody {
  return failedEvent(channel, contactInUseReason(channel));
}

/** The address currently awaiting (or, without a pending change, holding) verification. */
export function currentAddress(contact: ContactState): string | undefined {
  return contact.pending ?? contact.verified;
}

/** Setting the address it already has is refused, as in ZITADEL: a resend is the way to get a new code. */
export function assertAddressDiffers(contact: ContactState, channel: Channel, value: string): void {
  if (value === currentAddress(contact)) throw errors.contactNotChanged(channel);
}

/** A new code can be requested while an address awaits verification: never stuck, whatever happened to the last code. */
export function pendingAddressForNewCode(contact: ContactState, channel: Channel): string {
  if (contact.pending !== undefined) return contact.pending;
  throw errors.nothingToResend(channel, contact.verified !== undefined);
}

export function assertRemovable(contact: ContactState, channel: Channel): void {
  if (currentAddress(contact) === undefined) throw errors.contactNotFound(channel);
}

export interface VerifyInput {
  userId: string;
  channel: Channel;
  code: string;
  now: Date;
}

/**
 * Decides a verification attempt. A judged attempt is an event: the verification, or the wrong code (the caller
 * writes it, then returns the error), so attempts are counted in the same serialized log that decides them and two
 * racing attempts cannot both be judged against the same count. An attempt refused before judging (no code, a dead
 * or expired one, a locked contact) changes nothing and has no event: a flood of them writes nothing.
 */
export function decideVerification(
  contact: ContactState,
  input: VerifyInput,
  policy: { code: CodePolicy; failures: FailurePolicy },
  hasher: CodeHasher,
): { event: EventBody; error?: DomainError } | { event?: undefined; error: DomainError } {
  const { pending, code } = contact;
  if (pending === undefined) {
    return { error: contact.verified === undefined ? errors.noPendingCode() : errors.alreadyVerified(input.channel) };
  }
  if (!code) return { error: errors.noPendingCode() };
  const lockoutEnd = lockedUntil(contact, policy.failures);
  if (lockoutEnd !== undefined && input.now < lockoutEnd) {
    return { error: errors.tooManyFailures(lockoutEnd.getTime() - input.now.getTime()) };
  }
  if (code.failedAttempts >= policy.code.maxAttempts) return { error: errors.maxAttemptsReached() };
  // A code whose key was retired from the keyring can no longer be checked: it is over, but not a wrong guess.
  if (input.now >= code.expiresAt || !hasher.knowsKey(code.keyId)) return { error: errors.codeExpired() };
  const binding = { userId: input.userId, channel: input.channel, destination: code.destination };
  if (!hasher.matches(input.code, binding, code)) {
    // This wrong code may be the one that locks the contact: the caller (and the security log) learn for how long.
    const lockout = lockedUntil({ failureStreak: contact.failureStreak + 1, lastFailureAt: input.now }, policy.failures);
    const lockedForMs = lockout === undefined ? undefined : lockout.getTime() - input.now.getTime();
    const error = errors.codeInvalid(policy.code.maxAttempts - code.failedAttempts - 1, lockedForMs);
    return { event: failedEvent(input.channel, error.reason), error };
  }
  return { event: verifiedEvent(input.channel, pending) };
}

// 2^50 ms alone is 35,000 years: doublings beyond it change nothing but could overflow to Infinity (or NaN with a
// zero lockout), and a Date past the last one ECMAScript can hold is invalid, which would compare as not locked.
const maxDoublings = 50;
const lastValidDateMs = 8.64e15;

/**
 * Reaching the ceiling locks the contact for one lockout from the last wrong code; every wrong code after that
 * (one is possible after each lockout) locks it again for twice as long as before, until a verification resets the
 * streak. So persistent guessing gets a logarithmic number of guesses over time, not a steady rate.
 */
export function lockedUntil(
  contact: Pick<ContactState, "failureStreak" | "lastFailureAt">,
  policy: FailurePolicy,
): Date | undefined {
  const beyondCeiling = contact.failureStreak - policy.maxConsecutiveFailures;
  if (beyondCeiling < 0 || !contact.lastFailureAt) return undefined;
  const lockoutMs = policy.lockoutMs * 2 ** Math.min(beyondCeiling, maxDoublings);
  return new Date(Math.min(contact.lastFailureAt.getTime() + lockoutMs, lastValidDateMs));
}
