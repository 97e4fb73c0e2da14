// Country calling codes as the numbering-plan metadata knows them, so that an organization's country list can only
// name codes a number can have: a typo would otherwise silently allow or deny nothing.
import metadata from "libphonenumber-js/metadata.max.json";

const knownCallingCodes = new Set([...Object.keys(metadata.country_calling_codes), ...Object.keys(metadata.nonGeographic)]);

/** Whether a country calling code without "+" ("41", "1", "882") exists. */
export function isKnownCallingCode(callingCode: string): boolean {
  return knownCallingCodes.has(callingCode);
}
