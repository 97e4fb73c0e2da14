// ZITADEL's url_template uses Go template placeholders; we accept exactly {{.UserID}}, {{.OrgID}} and {{.Code}}.
import { errors } from "./errors.js";

export interface UrlTemplateValues {
  UserID: string;
  OrgID: string;
  Code: string;
}

const placeholder = /\{\{\s*\.(\w+)\s*\}\}/g;
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
