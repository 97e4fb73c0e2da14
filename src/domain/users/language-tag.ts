// A person's preferred language (ZITADEL's preferred_language, Kii's locale) picks the templates of their messages and
// is shown back to every client and administrator that reads the user, so it must be a language tag and nothing that
// merely fits the field: no control characters, no reordering marks, no path. The grammar is BCP 47's (RFC 5646,
// section 2.1), case-insensitive; whether the registry knows each subtag is not asked, since a tag verifyd has no
// templates for is no harm: its messages come in the default language.

const language = "[a-z]{2,3}(?:-[a-z]{3}){0,2}|[a-z]{4,8}";
const script = "[a-z]{4}";
const region = "[a-z]{2}|[0-9]{3}";
const variant = "[a-z0-9]{5,8}|[0-9][a-z0-9]{3}";
const extension = "[0-9a-wyz](?:-[a-z0-9]{2,8})+";
const privateUse = "x(?:-[a-z0-9]{1,8})+";
const langtag = `(?:${language})(?:-(?:${script}))?(?:-(?:${region}))?(?:-(?:${variant}))*(?:-${extension})*(?:-${privateUse})?`;
// The grandfathered tags that langtag does not match; the regular ones ("zh-min-nan", "art-lojban") it matches.
const irregular = [
  "en-GB-oed",
  "i-ami",
  "i-bnn",
  "i-default",
  "i-enochian",
  "i-hak",
  "i-klingon",
  "i-lux",
  "i-mingo",
  "i-navajo",
  "i-pwn",
  "i-tao",
  "i-tay",
  "i-tsu",
  "sgn-BE-FR",
  "sgn-BE-NL",
  "sgn-CH-DE",
].join("|");
const languageTag = new RegExp(`^(?:${langtag}|${privateUse}|${irregular})$`, "i");

/**
 * Whether `tag` is a well-formed BCP 47 language tag, such as "de", "de-CH" or "zh-Hant-TW"; with `_` for `-` too, as
 * Java's locales write them ("de_CH") and ZITADEL accepts them.
 */
export function isLanguageTag(tag: string): boolean {
  return languageTag.test(tag.replaceAll("_", "-"));
}
