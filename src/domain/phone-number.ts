// Phone numbers are checked against full metadata (not only parsed) and kept in E.164.
import { type CountryCode, parsePhoneNumberWithError } from "libphonenumber-js/max";
import { errors } from "./errors.js";

export interface PhonePolicy {
  /** Region assumed for numbers without "+" and country code; undefined requires international format. */
  defaultRegion?: CountryCode;
  /** Number types refused because they cannot receive SMS reliably. */
  refusedTypes: readonly string[];
}

export function normalizePhoneNumber(input: string, policy: PhonePolicy): string {
  const trimmed = input.trim();
  if (!trimmed.startsWith("+") && !policy.defaultRegion) {
    throw errors.phoneInvalid("use international format: + and the country code");
  }
  let parsed: ReturnType<typeof parsePhoneNumberWithError>;
  try {
    parsed = parsePhoneNumberWithError(trimmed, policy.defaultRegion);
  } catch {
    throw errors.phoneInvalid("not a phone number");
  }
  if (!parsed.isValid()) throw errors.phoneInvalid("no such number in its country's numbering plan");
  const type = parsed.getType();
  if (type && policy.refusedTypes.includes(type)) throw errors.phoneInvalid(`${type} numbers cannot receive SMS`);
  return parsed.number;
}
