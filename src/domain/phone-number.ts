// Phone numbers are checked against full metadata (not only parsed) and kept in E.164.
import { type CountryCode, parsePhoneNumberWithError } from "libphonenumber-js/max";
import { errors } from "./errors.js";

export interface PhonePolicy {
  /** Region assumed for numbers without "+" and country code; undefined requires international format. */
  defaultRegion?: CountryCode;
  /** Also accept fixed-line and VoIP numbers, which often cannot receive SMS. */
  allowLandline: boolean;
}

// An allow-list, not a deny-list: premium-rate, shared-cost, toll-free and pager numbers would let anyone who can
// trigger a send run up SMS charges (toll fraud).
const smsCapable = new Set(["MOBILE", "FIXED_LINE_OR_MOBILE"]);
const landline = new Set(["FIXED_LINE", "VOIP"]);

// libphonenumber finds a number inside text and splits off extensions and RFC 3966 parameters (";isub="), dropping
// the rest even with `extract: false`; a caller would never learn that part of the input was ignored. So the input
// must be nothing but a number: digits (any script), space and dash separators, and + ( ) . /. Every extension
// marker (ext, x, #, ",", ";") and every other character falls outside.
const onlyANumber = /^\+?[\p{Nd}\p{Zs}\p{Pd}()./]+$/u;

export function normalizePhoneNumber(input: string, policy: PhonePolicy): string {
  // NFKC: Chinese and Japanese input methods type the whole number in fullwidth forms (＋８１ ９０（１２３４）...), and
  // libphonenumber reads fullwidth digits but not the plus or the parentheses.
  const trimmed = input.normalize("NFKC").trim();
  if (!trimmed.startsWith("+") && !policy.defaultRegion) {
    throw errors.phoneInvalid("use international format: + and the country code");
  }
  if (!onlyANumber.test(trimmed)) {
    throw errors.phoneInvalid("must be only a phone number: digits, spaces and + - ( ) . /, no extension or other text");
  }
  let parsed: ReturnType<typeof parsePhoneNumberWithError>;
  try {
    parsed = parsePhoneNumberWithError(trimmed, { defaultCountry: policy.defaultRegion, extract: false });
  } catch {
    throw errors.phoneInvalid("not a phone number");
  }
  if (!parsed.isValid()) throw errors.phoneInvalid("no such number in its country's numbering plan");
  const type = parsed.getType() ?? "UNKNOWN";
  if (!smsCapable.has(type) && !(policy.allowLandline && landline.has(type))) {
    throw errors.phoneInvalid(`${type} numbers cannot receive verification SMS`);
  }
  return parsed.number;
}

/** The country calling code of a number in E.164 ("41" for +41 44 …), as organizations list them. */
export function phoneCallingCode(e164: string): string {
  return parsePhoneNumberWithError(e164).countryCallingCode;
}
