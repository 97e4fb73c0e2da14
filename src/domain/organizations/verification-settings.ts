// What an organization may set for its own users' verification, over the instance's defaults: its limits, the
// countries its SMS may go to, and test contacts with a fixed code (for app store reviewers and end-to-end tests).
import { destinationKey } from "../destination-key.js";
import type { Channel } from "../errors.js";
import type { UserState } from "../user-state.js";
import type { Limits } from "../limits/limits.js";

/** Country calling codes ("1", "41", …) SMS may go to, or may not; "all" leaves every mobile number allowed. */
export type PhoneCountries =
  | { mode: "all" }
  | { mode: "allow" | "deny"; callingCodes: readonly string[] };

/** A phone number or address whose code is always the configured one and is never delivered. */
export interface TestContact {
  channel: Channel;
  /** E.164 or normalized address. */
  value: string;
  /** The fixed code, encrypted like a message waiting for delivery: it must be read back to be hashed per user. */
  sealedCode: { keyId: string; sealed: Uint8Array };
}

export interface VerificationSettings {
  /** Only the limits the organization overrides; the rest follow the instance's defaults. */
  limits: Partial<Limits>;
  phoneCountries: PhoneCountries;
  testContacts: readonly TestContact[];
}

export const defaultVerificationSettings: VerificationSettings = {
  limits: {},
  phoneCountries: { mode: "all" },
  testContacts: [],
};

export interface OrganizationSettingsStore {
  /** The organization's settings; the defaults when it never set any. */
  verificationSettings(organizationId: string): Promise<VerificationSettings>;
  /**
   * The settings of the organization of a user as UserStore.load returned it, as of that load: the store reads them
   * along with the user, so that a decision on the user needs no read of its own. Read now for any other state.
   */
  settingsReadWith(user: UserState): Promise<VerificationSettings>;
  setVerificationSettings(organizationId: string, settings: VerificationSettings, at: Date): Promise<void>;
  /** Every organization that has test contacts, for the start-up log. */
  organizationsWithTestContacts(): Promise<{ organizationId: string; testContacts: readonly TestContact[] }[]>;
}

/** The limits that apply to an organization's users. */
export function effectiveLimits(instance: Limits, settings: VerificationSettings): Limits {
  // Field by field rather than by merging entries: every counted call works this out, and so it makes one object of
  // one shape instead of arrays of entries and an object of whatever shape the organization's overrides have.
  const own = settings.limits;
  return {
    sendCooldownMs: own.sendCooldownMs ?? instance.sendCooldownMs,
    sendsPerDestinationShort: own.sendsPerDestinationShort ?? instance.sendsPerDestinationShort,
    sendsPerDestinationDay: own.sendsPerDestinationDay ?? instance.sendsPerDestinationDay,
    sendsPerOrganizationHour: own.sendsPerOrganizationHour ?? instance.sendsPerOrganizationHour,
    sendsPerCallerHour: own.sendsPerCallerHour ?? instance.sendsPerCallerHour,
    verificationsPerUserHour: own.verificationsPerUserHour ?? instance.verificationsPerUserHour,
  };
}

/** Whether the organization lets SMS go to a number with this country calling code. */
export function phoneCountryAllowed(countries: PhoneCountries, callingCode: string): boolean {
  if (countries.mode === "all") return true;
  const listed = countries.callingCodes.includes(callingCode);
  return countries.mode === "allow" ? listed : !listed;
}

/** The test contact for this number, or for this address's mailbox, in whatever case either was written. */
export function findTestContact(settings: VerificationSettings, channel: Channel, value: string): TestContact | undefined {
  const key = destinationKey(channel, value);
  return settings.testContacts.find((contact) => contact.channel === channel && destinationKey(channel, contact.value) === key);
}
