// Parsers of the settings that go into every message: the app's name, the default language, the WebOTP host.
import { domainToASCII } from "node:url";
import { canonicalTag } from "../../domain/messages/message-catalog.js";

const maxAppNameLength = 40;

/** Shown to people in every SMS and email: one short line, which keeps an SMS in one segment. */
export function parseAppName(raw: string): string {
  const name = raw.trim();
  if (name === "" || [...name].length > maxAppNameLength || /\p{C}/u.test(name)) {
    throw new Error(`must be 1 to ${maxAppNameLength} characters, without line breaks or control characters`);
  }
  return name;
}

export function parseLanguageTag(raw: string): string {
  const tag = canonicalTag(raw.trim());
  if (tag === undefined) throw new Error("must be a language tag such as en, de or de-CH");
  return tag;
}

const label = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;

/**
 * The host of the web origin that SMS codes are bound to (WebOTP's `@host #code` line): a DNS name, in ASCII as
 * browsers compare it. An IP address, a port or a scheme would never match a page's origin.
 */
export function parseWebOtpHost(raw: string): string {
  const trimmed = raw.trim();
  // domainToASCII drops a path rather than refusing it.
  const host = /[/?#@]/.test(trimmed) ? "" : domainToASCII(trimmed);
  const labels = host.split(".");
  if (host.length === 0 || host.length > 253 || !labels.every((part) => label.test(part)) || /^\d+$/.test(labels.at(-1) ?? "")) {
    throw new Error("must be a host name such as verify.example.com, without scheme, port or path");
  }
  return host;
}
