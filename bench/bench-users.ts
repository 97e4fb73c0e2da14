// The users every target is seeded with, and the users AddHumanUser creates, as pure functions of an index: the
// orchestrator, the seeding and the load generator run in separate processes and agree on a million users without
// passing a list around.

export interface SeededUser {
  userId: string;
  /** E.164, a Swiss mobile number (+41 79 and seven digits): valid for verifyd's full numbering-plan check. */
  phone: string;
  /** The six-digit code the user's pending phone number awaits. */
  code: string;
}

/** Seven digits after a mobile prefix: the index space of both kinds of user. */
export const maxUsers = 10_000_000;

export function seededUser(index: number): SeededUser {
  const digits = sevenDigits(index);
  // An 18-digit decimal id, like verifyd's own, that sorts by index.
  return { userId: `4000000000${digits.padStart(8, "0")}`, phone: `+4179${digits}`, code: codeOf(index) };
}

/** The same code with its last digit changed: it passes validation and is a real HMAC mismatch. */
export function wrongCode(code: string): string {
  return `${code.slice(0, -1)}${(Number(code.at(-1)) + 1) % 10}`;
}

/** A new user's number for AddHumanUser (+41 78), never one a seeded user has. */
export function newUserPhone(index: number): string {
  return `+4178${sevenDigits(index)}`;
}

function sevenDigits(index: number): string {
  if (!Number.isInteger(index) || index < 0 || index >= maxUsers) throw new Error(`user index ${index} is outside [0, ${maxUsers})`);
  return String(index).padStart(7, "0");
}

/** Scattered, not secret: a multiplicative hash, so neighbouring users have unrelated codes. */
function codeOf(index: number): string {
  return String((Math.imul(index + 1, 0x9e3779b1) >>> 0) % 1_000_000).padStart(6, "0");
}
