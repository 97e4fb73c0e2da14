// ZITADEL's url_template uses Go template placeholders; we accept exactly {{.UserID}}, {{.OrgID}} and {{.Code}}.
import { errors } from "./errors.js";

export interface UrlTemplateValues {
  UserID: string;
  OrgID: string;
  Code: string;
}

const placeholder = /\{\{\s*\.(\w+)\s*\}\}/g;
/** RFC 3986's unreserved and reserved characters, and percent signs: what a URL holds as written. */
const urlCharacters = /^[A-Za-z0-9\-._~:/?#[\]@!$&'()*+,;=%]*$/;
const knownPlaceholders = "a template knows {{.UserID}}, {{.OrgID}} and {{.Code}}";
/** In RFC 3986 a "%" only begins an encoding; a stray one each server reads its own way. */
const strayPercentSign = /%(?![0-9A-Fa-f]{2})/;
/**
 * "//", a plain host (a name, an IPv4 address or an [IPv6] address), an optional port, then "/". A reader takes the
 * host for what stands between "//" and the next "/", or for what follows an "@"; a browser goes to evil.example for
 * https://good.example%2f@evil.example and for https://evil.example#@good.example alike.
 */
const plainAuthority = /^https?:\/\/([A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::[0-9]+)?\//i;

/**
 * Throws InvalidArgument DOMAIN-oGh5e, saying what is wrong, for unknown placeholders, stray braces, or a result that
 * is not an https link (http only to this machine, for development) to the host it shows: the link is mailed from our
 * sender with a live code in it, so a javascript: or plain-http link, or one that goes elsewhere than it reads, must
 * not be possible.
 */
export function renderUrlTemplate(template: string, values: UrlTemplateValues): string {
  const rendered = template.replace(placeholder, (match, name: string) => {
    if (!Object.hasOwn(values, name)) throw errors.urlTemplateInvalid(`unknown placeholder ${match}; ${knownPlaceholders}`);
    return encodeURIComponent(values[name as keyof UrlTemplateValues]);
  });
  if (rendered.includes("{{") || rendered.includes("}}")) {
    throw errors.urlTemplateInvalid(`"{{" or "}}" outside a placeholder; ${knownPlaceholders}`);
  }
  // The URL parser would drop a line break and encode a space, but the message carries the link as written.
  if (!urlCharacters.test(rendered)) {
    throw errors.urlTemplateInvalid(
      "holds a character a URL does not (a space, a line break, a quote, an angle bracket or a non-ASCII character); percent-encode it",
    );
  }
  if (strayPercentSign.test(rendered)) {
    throw errors.urlTemplateInvalid('holds a "%" that is not followed by two hexadecimal digits; write a percent sign as %25');
  }
  if (!URL.canParse(rendered)) throw errors.urlTemplateInvalid("is not an absolute URL once its placeholders are filled in");
  const url = new URL(rendered);
  if (!isSafeLink(url)) {
    throw errors.urlTemplateInvalid("the link must be https (http only to localhost, 127.0.0.1 or [::1], for development)");
  }
  const writtenHost = plainAuthority.exec(rendered)?.[1]?.toLowerCase();
  if (writtenHost === undefined) {
    throw errors.urlTemplateInvalid(
      'must begin with https://, a plain host (a name or an IP address, with no user name or password) and "/": https://host/… or https://host:port/…',
    );
  }
  // A browser reads 0x7f.1 or 2130706433 as 127.0.0.1.
  if (url.hostname !== writtenHost) {
    throw errors.urlTemplateInvalid(`a browser reads the host ${writtenHost} as ${url.hostname}; write it so`);
  }
  return rendered;
}

/** Checks a template before it is stored, with sample values, as ZITADEL does. */
export function checkUrlTemplate(template: string): void {
  renderUrlTemplate(template, { UserID: "1", OrgID: "1", Code: "CODE" });
}

const loopbackHosts = new Set(["localhost", "127.0.0.1", "[::1]"]);

function isSafeLink(url: URL): boolean {
  return url.protocol === "https:" || (url.protocol === "http:" && loopbackHosts.has(url.hostname));
}
