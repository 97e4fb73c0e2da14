// Conversions between VerificationSettingsService's messages and the domain's verification settings.
import type { MessageInitShape } from "@bufbuild/protobuf";
import type { Limits } from "../domain/limits/limits.js";
import {
  type PhoneCountries,
  type VerificationSettings,
  effectiveLimits,
} from "../domain/organizations/verification-settings.js";
import {
  type GetVerificationSettingsResponse,
  type GetVerificationSettingsResponseSchema,
  type Limits as WireLimits,
  type LimitsSchema,
  type PhoneCountries as WirePhoneCountries,
  PhoneCountriesMode,
} from "../gen/verifyd/settings/v1/verification_settings_service_pb.js";

/** The fields of Limits with the domain's name of each, and the unit: the cooldown travels in whole seconds. */
const limitFields = [
  { wire: "cooldownSeconds", domain: "sendCooldownMs", perUnit: 1000 },
  { wire: "sendsPerDestination10m", domain: "sendsPerDestinationShort", perUnit: 1 },
  { wire: "sendsPerDestinationDay", domain: "sendsPerDestinationDay", perUnit: 1 },
  { wire: "sendsPerOrganizationHour", domain: "sendsPerOrganizationHour", perUnit: 1 },
  { wire: "sendsPerCallerHour", domain: "sendsPerCallerHour", perUnit: 1 },
  { wire: "verificationsPerUserHour", domain: "verificationsPerUserHour", perUnit: 1 },
] as const satisfies readonly { wire: keyof WireLimits; domain: keyof Limits; perUnit: number }[];

/** Only the fields set: the others follow the instance's defaults. */
export function toDomainLimits(wire: WireLimits | undefined): Partial<Limits> {
  const limits: Partial<Limits> = {};
  for (const { wire: field, domain, perUnit } of limitFields) {
    const value = wire?.[field];
    if (value !== undefined) limits[domain] = value * perUnit;
  }
  return limits;
}

/**
 * The settings in a few words, for the security log: the limits the organization sets (as the API names them, in its
 * units), the countries SMS may go to, and how many test contacts there are (never their codes).
 */
export function settingsSummary(settings: VerificationSettings): Record<string, string> {
  const { limits, phoneCountries, testContacts } = settings;
  return {
    limits: Object.entries(toWireLimits(limits))
      .map(([name, value]) => `${name}=${value}`)
      .join(","),
    phoneCountries: phoneCountries.mode === "all" ? "all" : `${phoneCountries.mode}:${phoneCountries.callingCodes.join(",")}`,
    testContacts: String(testContacts.length),
  };
}

function toWireLimits(limits: Partial<Limits>): MessageInitShape<typeof LimitsSchema> {
  const wire: MessageInitShape<typeof LimitsSchema> = {};
  for (const { wire: field, domain, perUnit } of limitFields) {
    const value = limits[domain];
    // Rounded up: an instance default given in milliseconds is never shown as shorter than it is.
    if (value !== undefined) wire[field] = Math.ceil(value / perUnit);
  }
  return wire;
}

const listModes = {
  [PhoneCountriesMode.ALLOW_LIST]: "allow",
  [PhoneCountriesMode.DENY_LIST]: "deny",
} as const;

/** Validation guarantees calling codes with a list mode, and only then. */
export function toDomainPhoneCountries(wire: WirePhoneCountries | undefined): PhoneCountries {
  if (wire?.mode === PhoneCountriesMode.ALLOW_LIST || wire?.mode === PhoneCountriesMode.DENY_LIST) {
    return { mode: listModes[wire.mode], callingCodes: [...wire.callingCodes] };
  }
  return { mode: "all" };
}

/** The answer of Get and Set alike, which share their fields: a plain object, so that it initializes either. */
export type SettingsAnswer = Exclude<MessageInitShape<typeof GetVerificationSettingsResponseSchema>, GetVerificationSettingsResponse>;

function toWirePhoneCountries(countries: PhoneCountries): SettingsAnswer["phoneCountries"] {
  switch (countries.mode) {
    case "all":
      return { mode: PhoneCountriesMode.ALL };
    case "allow":
      return { mode: PhoneCountriesMode.ALLOW_LIST, callingCodes: [...countries.callingCodes] };
    case "deny":
      return { mode: PhoneCountriesMode.DENY_LIST, callingCodes: [...countries.callingCodes] };
  }
}

/** Test contacts without their codes, which are write-only. */
export function toWireSettings(settings: VerificationSettings, instanceLimits: Limits, testContactsHonoured: boolean): SettingsAnswer {
  return {
    limits: toWireLimits(settings.limits),
    phoneCountries: toWirePhoneCountries(settings.phoneCountries),
    testContacts: settings.testContacts.map((contact) => ({ contact: { case: contact.channel, value: contact.value } })),
    effectiveLimits: toWireLimits(effectiveLimits(instanceLimits, settings)),
    testContactsHonoured,
  };
}
