// Organizations' verification settings as the document both dialects store (JSON text in SQLite, jsonb in
// PostgreSQL): the domain's shape, with a test contact's sealed fixed code as base64, as messages waiting for delivery
// are kept. One codec, so that a document reads the same whichever store wrote it.
import type { Channel } from "../domain/errors.js";
import type { Limits } from "../domain/limits/limits.js";
import type { PhoneCountries, VerificationSettings } from "../domain/organizations/verification-settings.js";

/** The stored document's shape: the domain's, with the sealed codes as base64. */
export interface StoredVerificationSettings {
  limits: Partial<Limits>;
  phoneCountries: PhoneCountries;
  testContacts: { channel: Channel; value: string; keyId: string; sealedCode: string }[];
}

export function encodeVerificationSettings(settings: VerificationSettings): StoredVerificationSettings {
  return {
    limits: settings.limits,
    phoneCountries: settings.phoneCountries,
    testContacts: settings.testContacts.map((contact) => ({
      channel: contact.channel,
      value: contact.value,
      keyId: contact.sealedCode.keyId,
      sealedCode: Buffer.from(contact.sealedCode.sealed).toString("base64"),
    })),
  };
}

/** A stored document, parsed: its column holds what encodeVerificationSettings wrote. */
export function decodeVerificationSettings(stored: unknown): VerificationSettings {
  const document = stored as StoredVerificationSettings;
  return {
    limits: document.limits,
    phoneCountries: document.phoneCountries,
    testContacts: document.testContacts.map((contact) => ({
      channel: contact.channel,
      value: contact.value,
      sealedCode: { keyId: contact.keyId, sealed: new Uint8Array(Buffer.from(contact.sealedCode, "base64")) },
    })),
  };
}
