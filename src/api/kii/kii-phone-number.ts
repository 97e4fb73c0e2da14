// Kii lets a client give a national phone number with the user's `country` (ISO 3166 alpha-2, "JP"). verifyd reads
// it with that country and stores the number in E.164; the country itself is not kept, since nothing else uses it.
import { type CountryCode, isSupportedCountry } from "libphonenumber-js/max";
import { type PhonePolicy, normalizePhoneNumber } from "../../domain/phone-number.js";
import { kiiInvalidInput } from "./kii-error.js";

/** The number as the domain takes it: E.164 when a country was given, else as given (the domain's rules apply). */
export function kiiPhoneNumber(phoneNumber: string, country: string | undefined, policy: PhonePolicy): string {
  if (country === undefined) return phoneNumber;
  // Kii writes codes in capitals; "jp" means the same.
  const region = country.toUpperCase();
  if (!/^[A-Z]{2}$/.test(region) || !isSupportedCountry(region)) {
    throw kiiInvalidInput({ country: "must be an ISO 3166 country code with phone numbers, such as JP" }, "FIELD_INVALID");
  }
  return normalizePhoneNumber(phoneNumber, { ...policy, defaultRegion: region as CountryCode });
}

/** A country without a number would be dropped: verifyd keeps no country. */
export function refuseCountryWithoutPhoneNumber(country: string | undefined, phoneNumber: string | undefined): void {
  if (country !== undefined && phoneNumber === undefined) {
    throw kiiInvalidInput(
      { country: "verifyd uses country only to read a national phoneNumber, and keeps no country" },
      "FIELD_UNSUPPORTED",
    );
  }
}
