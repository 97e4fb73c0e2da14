// What a person types as login name: a username, or a phone number or an email address. Addresses are brought to the
// canonical form the users projection stores, so any spelling of a verified number or address finds it.
import { DomainError } from "../errors.js";
import { mailboxOf, normalizeEmailAddress } from "../email-address.js";
import { type PhonePolicy, normalizePhoneNumber } from "../phone-number.js";

export interface LoginName {
  /** What throttling counts failures under: one key for every spelling of one address, known to us or not. */
  key: string;
  /**
   * The username with its ASCII letters in lower case (usernameKey): a username logs in in any case of them. Absent
   * when the name is a phone number or an email address: those log in only as a verified address, never as a
   * username. Otherwise a username that is an address (AddHumanUser's default is the email address) would log in
   * before that address is verified, or after it was replaced.
   */
  username?: string;
  /** E.164, when the name is a phone number. */
  phone?: string;
  /** The mailbox (email-address.ts), when the name is an email address: any case of a verified address finds it. */
  email?: string;
}

/** No username or email address is longer (their limit in ZITADEL's contract), and no phone number comes near it. */
export const maxLoginNameLength = 200;

export function parseLoginName(input: string, phonePolicy: PhonePolicy): LoginName {
  // A verified number passed the SMS policy when it was set; logging in only needs its canonical form.
  const phone = canonical(() => normalizePhoneNumber(input, { ...phonePolicy, allowLandline: true }));
  const email = canonical(() => mailboxOf(normalizeEmailAddress(input)));
  const username = phone === undefined && email === undefined ? usernameKey(input) : undefined;
  return {
    key: email ?? phone ?? (username as string),
    ...(username === undefined ? {} : { username }),
    ...(phone === undefined ? {} : { phone }),
    ...(email === undefined ? {} : { email }),
  };
}

function canonical(normalize: () => string): string | undefined {
  try {
    return normalize();
  } catch (error) {
    if (error instanceof DomainError) return undefined;
    throw error;
  }
}

/**
 * A username as the database tells usernames apart: its ASCII letters in lower case, as both dialects' lower() give
 * it in the indexes that keep usernames unique per organization (lower(username) in SQLite, lower(username COLLATE
 * "C") in PostgreSQL). So `Ada` and `ada` are one name, as in ZITADEL, and no one else's login can be made by a case.
 */
export function usernameKey(username: string): string {
  return username.replace(/[A-Z]+/g, (letters) => letters.toLowerCase());
}
