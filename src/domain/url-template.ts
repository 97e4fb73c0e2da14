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

/**
 * Throws InvalidArgument DOMAIN-oGh5e, saying what is wrong, for unknown placeholders, stray braces, or a result that
 * is not an https link (http only to this machine, for development): the link is mailed from our sender with a live
 * code in it, so a javascript: or plain-http link must not be possible.
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
  if (!URL.canParse(rendered)) throw errors.urlTemplateInvalid("is not an absolute URL once its placeholders are filled in");
  if (!isSafeLink(new URL(rendered))) {
    throw errors.urlTemplateInvalid("the link must be https (http only to localhost, 127.0.0.1 or [::1], for development)");
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
