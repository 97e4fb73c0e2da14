// Passwords of people. The domain decides what is acceptable; hashing is a port, since it is slow, memory-hard
// and native: commands hash before they decide and never inside a storage transaction.
import { errors } from "../errors.js";

/** A password as a caller gives it: in plain text, or already hashed elsewhere (an import). */
export type NewPassword = { kind: "plain"; password: string } | { kind: "hashed"; encodedHash: string };

export interface PasswordHasher {
  /** An encoded hash (PHC string) of the password with a fresh salt. */
  hash(password: string): Promise<string>;
  verify(encodedHash: string, password: string): Promise<boolean>;
  /**
   * Does the work of one verify against a fixed hash and answers false, so that a login for nobody costs what a
   * login for somebody costs.
   */
  verifyNobody(password: string): Promise<false>;
  /** Whether an imported hash is one this hasher verifies, with parameters it accepts. */
  accepts(encodedHash: string): boolean;
}

/** NIST SP 800-63B's floor for passwords people choose. */
export const minPasswordLength = 8;

export function checkPasswordStrength(password: string): void {
  // Code points, not UTF-16 units: an emoji is one character to the person typing it.
  const length = [...password].length;
  if (length < minPasswordLength) throw errors.passwordTooWeak(`at least ${minPasswordLength} characters, got ${length}`);
}

/** The hash to store for a new password: checked, then hashed (plain) or checked as importable (hashed). */
export async function encodeNewPassword(password: NewPassword, hasher: PasswordHasher): Promise<string> {
  if (password.kind === "hashed") {
    if (!hasher.accepts(password.encodedHash)) throw errors.hashedPasswordUnsupported();
    return password.encodedHash;
  }
  checkPasswordStrength(password.password);
  return hasher.hash(password.password);
}
