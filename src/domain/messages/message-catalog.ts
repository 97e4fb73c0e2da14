// Which templates make up each message, in which languages, and which language a person gets. Built once at start
// from the shipped templates and the operator's overrides (same names, same checks), so that a bad template stops
// the start instead of a delivery.
import type { Channel } from "../errors.js";
import type { MessagePurpose } from "../outgoing-message.js";
import { unicodeNotation } from "../unicode-notation.js";
import { type Placeholder, type Template, TemplateProblem, alwaysShows, parseTemplate } from "./message-template.js";

export type MessagePart = "subject" | "text" | "html";

/** The templates of one message in one language: an SMS has a text, an email a subject, a text and an HTML part. */
export type MessageParts = { text: Template } & Partial<Record<MessagePart, Template>>;

/** Template texts by language tag, then by file name (`sms-code.txt`, `email-code.subject.txt`, …). */
export type TemplateSources = Readonly<Record<string, Readonly<Record<string, string>>>>;

export interface MessageSettings {
  /** What the messages call the service the person uses. */
  appName: string;
  /** Everyone whose preferred language has no templates gets this one. */
  defaultLanguage: string;
  /** The host of the origin that SMS codes are bound to for one-time-code autofill (WebOTP); none: no such line. */
  webOtpHost?: string;
}

export interface MessageTemplates extends MessageSettings {
  /** By lower-case language tag. */
  languages: ReadonlyMap<string, Language>;
}

interface Language {
  tag: string;
  /** By message name (`sms-code`, …); a language may lack some, which then come in the default language. */
  messages: ReadonlyMap<string, MessageParts>;
}

export interface TemplateFileProblem {
  /** The template's path under the templates directory, e.g. `de/sms-code.txt`; none for a problem of a setting. */
  file?: string;
  problem: string;
}

export class TemplateProblems extends Error {
  override name = "TemplateProblems";

  constructor(readonly problems: readonly TemplateFileProblem[]) {
    super(problems.map(({ file, problem }) => (file === undefined ? problem : `${file}: ${problem}`)).join("; "));
  }
}

const channels: readonly Channel[] = ["phone", "email"];
const purposes: readonly MessagePurpose[] = ["code", "contact-changed"];
const partsOf: Record<Channel, readonly MessagePart[]> = { phone: ["text"], email: ["subject", "text", "html"] };
const partSuffix: Record<MessagePart, string> = { subject: ".subject.txt", text: ".txt", html: ".html" };

export function messageName(channel: Channel, purpose: MessagePurpose): string {
  return `${channel === "phone" ? "sms" : "email"}-${purpose}`;
}

function fileName(channel: Channel, purpose: MessagePurpose, part: MessagePart): string {
  return `${messageName(channel, purpose)}${partSuffix[part]}`;
}

/** A notice names no code and no address: only what the person needs to recognize the account. */
function placeholdersOf(channel: Channel, purpose: MessagePurpose): Placeholder[] {
  if (purpose === "contact-changed") return ["app_name"];
  return channel === "email" ? ["app_name", "code", "lifetime", "link"] : ["app_name", "code", "lifetime"];
}

const messageNames = channels.flatMap((channel) => purposes.map((purpose) => messageName(channel, purpose)));

const knownFiles = channels.flatMap((channel) =>
  purposes.flatMap((purpose) => partsOf[channel].map((part) => fileName(channel, purpose, part))),
);

/** Checks every template and the default language; throws TemplateProblems naming each file at fault. */
export function buildMessageTemplates(
  shipped: TemplateSources,
  overrides: TemplateSources,
  settings: MessageSettings,
): MessageTemplates {
  const problems: TemplateFileProblem[] = [];
  const languages = new Map<string, Language>();
  for (const [key, { tag, directory, files }] of mergedSources(shipped, overrides, problems)) {
    languages.set(key, { tag, messages: checkedMessages(files, (name) => `${directory}/${name}`, problems) });
  }
  const fallback = candidates(settings.defaultLanguage).map((candidate) => languages.get(candidate)).find(Boolean);
  const lacking = messageNames.filter((name) => !fallback?.messages.has(name));
  // A template refused above is lacking too; that refusal says why.
  if (problems.length === 0 && lacking.length > 0) {
    const have = [...languages.values()].map((language) => language.tag).join(", ");
    problems.push({
      problem: fallback
        ? `--default-language ${settings.defaultLanguage}: has no ${lacking.join(", ")}; the default language needs every message`
        : `--default-language ${settings.defaultLanguage}: no templates in this language (there are: ${have})`,
    });
  }
  if (problems.length > 0) throw new TemplateProblems(problems);
  return { ...settings, languages };
}

/**
 * What an operator's templates leave to others, one line per language directory that leaves anything: the messages a
 * language verifyd does not ship lacks, which go out in the default language, and the files of a shipped language's
 * message that stay shipped beside those the directory replaces. Nothing wrong, but nothing anyone sees either.
 */
export function templateNotices(shipped: TemplateSources, overrides: TemplateSources, defaultLanguage: string): string[] {
  const shippedTags = new Set(Object.keys(shipped).map((tag) => tag.toLowerCase()));
  const notices: string[] = [];
  for (const [directory, files] of Object.entries(overrides)) {
    const isShipped = shippedTags.has(canonicalTag(directory)?.toLowerCase() ?? "");
    const lacking: string[] = [];
    const kept: string[] = [];
    for (const channel of channels) {
      for (const purpose of purposes) {
        const names = partsOf[channel].map((part) => fileName(channel, purpose, part));
        const given = names.filter((name) => files[name] !== undefined);
        if (!isShipped && given.length === 0) lacking.push(messageName(channel, purpose));
        if (isShipped && given.length > 0) kept.push(...names.filter((name) => files[name] === undefined));
      }
    }
    if (lacking.length > 0) notices.push(`${directory}: has no ${lacking.join(", ")}; those go out in ${defaultLanguage}`);
    if (kept.length > 0) notices.push(`${directory}: keeps the shipped ${kept.join(", ")} beside the files it replaces`);
  }
  return notices;
}

/** By lower-case tag: each language's files, the directory's over the shipped ones, and where a problem is reported. */
function mergedSources(
  shipped: TemplateSources,
  overrides: TemplateSources,
  problems: TemplateFileProblem[],
): Map<string, { tag: string; directory: string; files: Record<string, string> }> {
  const sources = new Map<string, { tag: string; directory: string; files: Record<string, string> }>();
  for (const [tag, files] of Object.entries(shipped)) sources.set(tag.toLowerCase(), { tag, directory: tag, files: { ...files } });
  const seen = new Map<string, string>();
  for (const [directory, files] of Object.entries(overrides)) {
    const tag = canonicalTag(directory);
    if (tag === undefined) {
      problems.push({ file: directory, problem: "is not a language tag such as en, de or de-CH" });
      continue;
    }
    const key = tag.toLowerCase();
    const earlier = seen.get(key);
    if (earlier !== undefined) {
      problems.push({ file: directory, problem: `is the same language as ${earlier}` });
      continue;
    }
    seen.set(key, directory);
    for (const name of Object.keys(files).filter((name) => !knownFiles.includes(name))) {
      problems.push({ file: `${directory}/${name}`, problem: `is no template verifyd knows (${knownFiles.join(", ")})` });
    }
    const language = sources.get(key);
    sources.set(key, { tag: language?.tag ?? tag, directory, files: { ...language?.files, ...files } });
  }
  return sources;
}

/** A language's complete messages; a message with only some of its files is a problem, one with none is absent. */
function checkedMessages(
  files: Record<string, string>,
  at: (name: string) => string,
  problems: TemplateFileProblem[],
): Map<string, MessageParts> {
  const messages = new Map<string, MessageParts>();
  for (const channel of channels) {
    for (const purpose of purposes) {
      const names = partsOf[channel].map((part) => fileName(channel, purpose, part));
      const missing = names.filter((name) => files[name] === undefined);
      if (missing.length === names.length) continue;
      if (missing.length > 0) {
        const problem = `missing: ${messageName(channel, purpose)} needs all of ${names.join(", ")}`;
        problems.push({ file: at(missing[0] as string), problem });
        continue;
      }
      const parts: Partial<Record<MessagePart, Template>> = {};
      for (const part of partsOf[channel]) {
        const name = fileName(channel, purpose, part);
        try {
          parts[part] = checkedPart(files[name] as string, channel, purpose, part);
        } catch (error) {
          if (!(error instanceof TemplateProblem)) throw error;
          problems.push({ file: at(name), problem: error.message });
        }
      }
      if (parts.text) messages.set(messageName(channel, purpose), parts as MessageParts);
    }
  }
  return messages;
}

/**
 * The control characters a message may carry, any other (a NUL, an escape) being no text a person can read: line
 * breaks, and in an email tabs, with which its text and HTML are indented. An SMS has no tab in its GSM-7 alphabet,
 * and phones show one as they please.
 */
const controlCharacters: Record<Channel, { stray: RegExp; rule: string }> = {
  phone: { stray: /[^\P{Cc}\n\r]/u, rule: "an SMS holds none but line breaks" },
  email: { stray: /[^\P{Cc}\n\r\t]/u, rule: "an email holds none but line breaks and tabs" },
};

function checkedPart(source: string, channel: Channel, purpose: MessagePurpose, part: MessagePart): Template {
  const stray = controlCharacters[channel].stray.exec(source);
  if (stray) {
    const line = source.slice(0, stray.index).split("\n").length;
    throw new TemplateProblem(`line ${line} holds the control character ${unicodeNotation(stray[0])}; ${controlCharacters[channel].rule}`);
  }
  // Editors end files with a line break, which would only lengthen an SMS.
  const trimmed = source.trimEnd();
  if (part === "subject" && /[\r\n]/.test(trimmed)) throw new TemplateProblem("a subject is one line");
  const template = parseTemplate(trimmed, placeholdersOf(channel, purpose));
  if (purpose === "code" && part !== "subject" && !alwaysShows(template, "code")) {
    throw new TemplateProblem("never shows {{code}} (outside a {{#…}} section), so the person would get no code");
  }
  return template;
}

/**
 * The templates of a message in the person's language ("de-CH", then "de"), else in the default language. Built by
 * buildMessageTemplates, the default language has every message.
 */
export function templatesFor(
  templates: MessageTemplates,
  channel: Channel,
  purpose: MessagePurpose,
  preferredLanguage: string | undefined,
): { language: string; parts: MessageParts } {
  const name = messageName(channel, purpose);
  const wanted = [...(preferredLanguage ? candidates(preferredLanguage) : []), ...candidates(templates.defaultLanguage)];
  for (const candidate of wanted) {
    const language = templates.languages.get(candidate);
    const parts = language?.messages.get(name);
    if (language && parts) return { language: language.tag, parts };
  }
  throw new Error(`no templates for ${name} in the default language ${templates.defaultLanguage}`);
}

/** The lower-case tag and then its language alone: "de-ch", "de". Accepts Java's "de_CH", as clients send it. */
function candidates(language: string): string[] {
  const tag = language.trim().replaceAll("_", "-").toLowerCase();
  const primary = tag.split("-")[0] ?? tag;
  return primary === tag ? [tag] : [tag, primary];
}

/** The canonical BCP 47 form ("de-CH" for "de-ch"), or undefined for something that is none. */
export function canonicalTag(language: string): string | undefined {
  try {
    return Intl.getCanonicalLocales(language)[0];
  } catch {
    return undefined;
  }
}
