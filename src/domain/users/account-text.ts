// What a new user's id, username, names and language may contain. They are shown to people (administrators' screens,
// logs, Kii's user representation) and compared by code, so nothing in them may hide, reorder or imitate other text:
// - no control characters (C0, DEL, C1) anywhere;
// - in names, no bidirectional overrides or isolates (U+202A–U+202E, U+2066–U+2069), which make text read in
//   another order than it is stored ("Trojan Source"); joiners stay, scripts such as Persian need them;
// - usernames, which people type to log in, also no invisible format characters (zero-width space, joiners, BOM), no
//   space at either end, and only their NFKC form: a fullwidth "ｂｏｂ" would otherwise sit beside "bob";
// - a chosen user id only ASCII letters, digits and . _ @ -, not starting with a dot: ids go into REST and Kii paths,
//   where "..", "a/b" or Kii's "me" would name something else;
// - a preferred language only a language tag (language-tag.ts), or nothing.
import { holdsControlCharacter } from "../control-characters.js";
import { errors } from "../errors.js";
import { isLanguageTag } from "./language-tag.js";

const bidiControl = /[\u202A-\u202E\u2066-\u2069]/u;
const formatCharacter = /\p{Cf}/u;
const chosenUserId = /^[A-Za-z0-9_@-][A-Za-z0-9._@-]*$/;

export interface AccountText {
  userId?: string | undefined;
  username?: string | undefined;
  /** Each name by the field it came in, e.g. "profile.given_name". */
  names: Readonly<Record<string, string | undefined>>;
  /** The profile's preferred language; empty, as ZITADEL takes it, for none. */
  preferredLanguage?: string | undefined;
  /** Free text by its field: lines and tabs are its own, other control characters are not (PostgreSQL holds no NUL). */
  descriptions?: Readonly<Record<string, string>>;
}

/** Throws the refusal for the first text that breaks its rule. */
export function checkAccountText({ userId, username, names, preferredLanguage, descriptions = {} }: AccountText): void {
  if (userId !== undefined) {
    const problem = chosenIdProblem(userId);
    if (problem) throw errors.textInvalid("user_id", problem);
  }
  if (username !== undefined) {
    const problem = usernameProblem(username);
    if (problem) throw errors.textInvalid("username", problem);
  }
  for (const [field, name] of Object.entries(names)) {
    const problem = name === undefined ? undefined : nameProblem(name);
    if (problem) throw errors.textInvalid(field, problem);
  }
  for (const [field, text] of Object.entries(descriptions)) {
    if (holdsControlCharacter(text.replace(/[\t\n\r]/g, ""))) throw errors.textInvalid(field, "may not hold control characters other than line breaks and tabs");
  }
  if (preferredLanguage && !isLanguageTag(preferredLanguage)) {
    throw errors.textInvalid("profile.preferred_language", 'must be a BCP 47 language tag, such as "de" or "de-CH"');
  }
}

/** Ids a caller chooses (users', organizations') go into REST and Kii paths. */
export function chosenIdProblem(id: string): string | undefined {
  if (!chosenUserId.test(id)) return "may hold only ASCII letters, digits and . _ @ -, and not begin with a dot";
  if (id === "me") return `"me" is how Kii's API names the caller`;
  return undefined;
}

function usernameProblem(username: string): string | undefined {
  if (holdsControlCharacter(username) || formatCharacter.test(username)) return "may not hold control or invisible characters";
  if (username.trim() !== username) return "may not begin or end with a space";
  const normal = username.normalize("NFKC");
  if (normal !== username) return `must be written in its plain (NFKC) form: ${JSON.stringify(normal)}`;
  return undefined;
}

export function nameProblem(name: string): string | undefined {
  if (holdsControlCharacter(name)) return "may not hold control characters";
  if (bidiControl.test(name)) return "may not hold characters that reorder text (bidirectional overrides and isolates)";
  return undefined;
}
