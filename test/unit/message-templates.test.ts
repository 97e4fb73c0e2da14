// Composing messages from templates: the person's language with its fallbacks, the values put in (escaped in HTML),
// the WebOTP line, the length of an SMS, and every template refused at start with the file at fault.
import { describe, expect, it } from "vitest";
import { lifetimeInWords } from "../../src/domain/messages/code-lifetime.js";
import {
  type MessageSettings,
  type TemplateSources,
  TemplateProblems,
  buildMessageTemplates,
} from "../../src/domain/messages/message-catalog.js";
import { parseTemplate, renderTemplate } from "../../src/domain/messages/message-template.js";
import { shippedTemplates } from "../../src/domain/messages/shipped-templates.js";
import { type OutgoingMessage, composeChangeNotice, composeCodeMessage, withTimeLeft } from "../../src/domain/outgoing-message.js";

const settings: MessageSettings = { appName: "Acme", defaultLanguage: "en" };
const shipped = (overrides: TemplateSources = {}, with_: Partial<MessageSettings> = {}) =>
  buildMessageTemplates(shippedTemplates, overrides, { ...settings, ...with_ });

const codeInput = { destination: "+41791234567", code: "123456", lifetimeMs: 600_000, userId: "u1", orgId: "o1" };
const now = new Date("2026-11-29T12:00:00Z");
/** As delivered `leftMs` before the code expires (made with a lifetime of 10 minutes, delivered at once). */
const delivered = (message: OutgoingMessage, leftMs = 600_000) => withTimeLeft(message, new Date(now.getTime() + leftMs), now);
const sms = (language?: string, with_: Partial<MessageSettings> = {}) =>
  delivered(composeCodeMessage(shipped({}, with_), { ...codeInput, channel: "phone", ...(language ? { language } : {}) }));
const email = (input: { language?: string; urlTemplate?: string } = {}, with_: Partial<MessageSettings> = {}) =>
  delivered(composeCodeMessage(shipped({}, with_), { ...codeInput, channel: "email", destination: "ada@example.com", ...input }));

/** GSM 03.38's basic set and its extension table: what an SMS carries at 7 bits a character. */
const gsm7 =
  "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà^{}\\[~]|€";

/** How a template refused at start reads: each file at fault with its problem. */
function problemsOf(build: () => unknown): string {
  try {
    build();
  } catch (error) {
    if (error instanceof TemplateProblems) return error.message;
    throw error;
  }
  throw new Error("the templates were accepted");
}

describe("code messages", () => {
  it("sends an English SMS by default, with the app name, the code and its lifetime", () => {
    expect(sms()).toEqual({
      channel: "phone",
      destination: "+41791234567",
      purpose: "code",
      subject: "",
      text: "Your Acme verification code is 123456. It expires in 10 minutes. Do not share it.",
      lifetime: { words: "10 minutes", language: "en" },
    });
  });

  it("writes in the person's language: de-CH and de_CH find German, a language without templates the default", () => {
    const german = "Ihr Bestätigungscode für Acme lautet 123456. Er ist 10 Minuten gültig. Geben Sie ihn nicht weiter.";
    expect(sms("de").text).toBe(german);
    expect(sms("de-CH").text).toBe(german);
    expect(sms("DE_ch").text).toBe(german);
    expect(sms("fr").text).toMatch(/^Your Acme verification code/);
    expect(sms("fr", { defaultLanguage: "de" }).text).toBe(german);
    expect(sms("not a language tag").text).toMatch(/^Your Acme/);
  });

  it("ends an SMS with the WebOTP line when a host is configured", () => {
    expect(sms("en", { webOtpHost: "verify.example.com" }).text).toMatch(/\. Do not share it\.\n\n@verify\.example\.com #123456$/);
    expect(email({}, { webOtpHost: "verify.example.com" }).text).not.toContain("@verify.example.com");
  });

  it("keeps the shipped SMS in GSM-7 and in one segment with a 20-character app name and a 30-character host", () => {
    const templates = shipped({}, { appName: "Acme Online Banking!", webOtpHost: "accounts.verify.acme-bank.com" });
    const messages = ["en", "de"].flatMap((language) => [
      delivered(composeCodeMessage(templates, { ...codeInput, channel: "phone", language })),
      composeChangeNotice(templates, { channel: "phone", destination: "+41791234567", language }),
    ]);
    // English stays in one segment with a code that lives an hour and a half, too.
    messages.push(delivered(composeCodeMessage(templates, { ...codeInput, channel: "phone", lifetimeMs: 90 * 60_000 }), 90 * 60_000));
    for (const { text } of messages) {
      expect([...text].length, text).toBeLessThanOrEqual(160);
      expect([...text].filter((character) => !gsm7.includes(character)), text).toEqual([]);
    }
  });

  it("tells the time left when it is delivered, rounded down: whole minutes from two minutes on, 10 seconds below", () => {
    const made = composeCodeMessage(shipped(), { ...codeInput, channel: "email", destination: "ada@example.com", language: "de" });
    expect(delivered(made, 599_700).text).toContain("Er ist 10 Minuten gültig.");
    expect(delivered(made, 4 * 60_000 + 40_000).text).toContain("Er ist 4 Minuten gültig.");
    expect(delivered(made, 4 * 60_000 + 40_000).html).toContain("<p>Er ist 4 Minuten gültig.</p>");
    expect(delivered(made, 93_000).text).toContain("Er ist 1 Minute und 30 Sekunden gültig.");
    expect(delivered(made, 2_000).text).toContain("Er ist 10 Sekunden gültig.");
    expect(delivered(made, 89 * 60_000 + 40_000).text).toContain("Er ist 1 Stunde und 29 Minuten gültig.");
    // Made in full, so that a worker of an earlier version, which knows nothing of the time left, sends it whole.
    expect(made.text).toContain("Er ist 10 Minuten gültig.");
    // A notice has no lifetime; nothing in it changes.
    const notice = composeChangeNotice(shipped(), { channel: "phone", destination: "+41791234567" });
    expect(delivered(notice, 1)).toEqual(notice);
  });

  it("says the lifetime in the message's language, however it is made up", () => {
    expect(lifetimeInWords(600_000, "en")).toBe("10 minutes");
    expect(lifetimeInWords(60_000, "en")).toBe("1 minute");
    expect(lifetimeInWords(90 * 60_000, "en")).toBe("1 hour and 30 minutes");
    expect(lifetimeInWords(90 * 60_000, "de")).toBe("1 Stunde und 30 Minuten");
    expect(lifetimeInWords(24 * 3_600_000, "de")).toBe("1 Tag");
    // French puts a no-break space before units, which is not in GSM-7.
    expect(lifetimeInWords(90_000, "fr")).toBe("1 minute et 30 secondes");
  });

  it("sends an email with subject, text and HTML, and the link only when a url_template was given", () => {
    const plain = email();
    expect(plain).toMatchObject({ channel: "email", purpose: "code", subject: "Verify your email address" });
    expect(plain.text).toBe("Your Acme verification code is 123456. It expires in 10 minutes.\n\nIf you did not ask for it, ignore this message.");
    expect(plain.html).toMatch(/^<!DOCTYPE html>\n<html lang="en">/);
    expect(plain.html).toContain(">123456</p>");
    expect(plain.html).not.toContain("<a ");

    const linked = email({ urlTemplate: "https://app.example.com/verify?user={{.UserID}}&code={{.Code}}" });
    expect(linked.text).toContain("\n\nOr open this link to verify your address: https://app.example.com/verify?user=u1&code=123456\n\n");
    expect(linked.html).toContain('<a href="https://app.example.com/verify?user=u1&amp;code=123456">');
    expect(email({ language: "de" }).subject).toBe("Bestätigen Sie Ihre E-Mail-Adresse");
  });

  it("escapes every value put into the HTML part, and only there", () => {
    const message = email({ urlTemplate: "https://app.example.com/verify?a=1&b='2'" }, { appName: `<b>"Tom" & Jerry's</b>` });
    expect(message.html).toContain("&lt;b&gt;&quot;Tom&quot; &amp; Jerry&#39;s&lt;/b&gt;");
    expect(message.html).toContain(`href="https://app.example.com/verify?a=1&amp;b=&#39;2&#39;"`);
    expect(message.html).not.toContain("<b>");
    expect(message.text).toContain(`Your <b>"Tom" & Jerry's</b> verification code`);
  });
});

describe("the notice to a replaced contact", () => {
  it("names the app, and neither a code nor an address", () => {
    const templates = shipped();
    expect(composeChangeNotice(templates, { channel: "phone", destination: "+41791234567" })).toEqual({
      channel: "phone",
      destination: "+41791234567",
      purpose: "contact-changed",
      subject: "",
      text: "The phone number of your Acme account was changed. If this was not you, contact Acme support right away.",
    });
    const notice = composeChangeNotice(templates, { channel: "email", destination: "ada@example.com", language: "de-AT" });
    expect(notice).toMatchObject({ purpose: "contact-changed", subject: "Die E-Mail-Adresse Ihres Kontos bei Acme wurde geändert" });
    expect(notice.text).toMatch(/^Die E-Mail-Adresse Ihres Kontos bei Acme wurde geändert\./);
    expect(notice.html).toContain('<html lang="de">');
  });
});

describe("templates from a directory", () => {
  it("replace single parts of a shipped language and keep the others", () => {
    const templates = shipped({ en: { "sms-code.txt": "{{code}} is your {{app_name}} code ({{lifetime}})\n" } });
    const message = delivered(composeCodeMessage(templates, { ...codeInput, channel: "phone" }));
    expect(message.text).toBe("123456 is your Acme code (10 minutes)");
    expect(composeCodeMessage(templates, { ...codeInput, channel: "email" }).subject).toBe("Verify your email address");
  });

  it("add a language, whose missing messages come in the default language", () => {
    const templates = shipped({ "fr-CA": { "sms-code.txt": "Votre code {{app_name}} est {{code}}. Il expire dans {{lifetime}}." } });
    expect(delivered(composeCodeMessage(templates, { ...codeInput, channel: "phone", language: "fr-CA" })).text).toBe(
      "Votre code Acme est 123456. Il expire dans 10 minutes.",
    );
    expect(composeCodeMessage(templates, { ...codeInput, channel: "phone", language: "fr" }).text).toMatch(/^Your Acme/);
    expect(composeChangeNotice(templates, { channel: "phone", destination: "+41791234567", language: "fr-CA" }).text).toMatch(/^The phone number/);
  });

  it("may make a language of their own the default, when it has every message", () => {
    const complete = Object.fromEntries(Object.entries(shippedTemplates.en ?? {}).map(([file, text]) => [file, `[it] ${text}`]));
    const templates = shipped({ it: complete }, { defaultLanguage: "it" });
    expect(composeCodeMessage(templates, { ...codeInput, channel: "phone", language: "fr" }).text).toMatch(/^\[it\] Your Acme/);
    expect(problemsOf(() => shipped({ it: { "sms-code.txt": "{{code}}" } }, { defaultLanguage: "it" }))).toBe(
      "--default-language it: has no sms-contact-changed, email-code, email-contact-changed; the default language needs every message",
    );
    expect(problemsOf(() => shipped({}, { defaultLanguage: "fr" }))).toBe("--default-language fr: no templates in this language (there are: en, de)");
  });

  it.each([
    ["an unknown placeholder", { de: { "sms-code.txt": "{{code}} {{name}}" } }, "de/sms-code.txt: unknown placeholder {{name}}; this message knows {{app_name}}, {{code}}, {{lifetime}}"],
    ["a code in a notice", { en: { "sms-contact-changed.txt": "{{code}}" } }, "en/sms-contact-changed.txt: unknown placeholder {{code}}; this message knows {{app_name}}"],
    ["a link in an SMS", { en: { "sms-code.txt": "{{code}} {{link}}" } }, "en/sms-code.txt: unknown placeholder {{link}}"],
    ["a code template without the code", { en: { "email-code.html": "<p>Hello from {{app_name}}</p>" } }, "en/email-code.html: never shows {{code}}"],
    ["the code only inside the link's section", { en: { "email-code.txt": "{{#link}}{{code}}{{/link}}" } }, "en/email-code.txt: never shows {{code}}"],
    ["an unclosed section", { en: { "email-code.txt": "{{code}} {{#link}}{{link}}" } }, "en/email-code.txt: {{#link}} is never closed with {{/link}}"],
    ["a stray closing tag", { en: { "email-code.txt": "{{code}} {{/link}}" } }, "en/email-code.txt: {{/link}} closes no {{#link}}"],
    ["a lone {{", { en: { "sms-code.txt": "{{code}} {{ code" } }, 'en/sms-code.txt: a "{{" that opens no placeholder'],
    ["an empty file", { en: { "sms-contact-changed.txt": "\n" } }, "en/sms-contact-changed.txt: is empty"],
    ["a subject of two lines", { en: { "email-code.subject.txt": "Verify\nnow" } }, "en/email-code.subject.txt: a subject is one line"],
    ["an unknown file", { en: { "sms-code.text": "{{code}}" } }, "en/sms-code.text: is no template verifyd knows (sms-code.txt, sms-contact-changed.txt, email-code.subject.txt"],
    ["a directory that is no language", { english_US: { "sms-code.txt": "{{code}}" } }, "english_US: is not a language tag such as en, de or de-CH"],
    ["a language twice", { "de-ch": { "sms-code.txt": "{{code}}" }, "de-CH": { "sms-code.txt": "{{code}}" } }, "de-CH: is the same language as de-ch"],
    ["an email of a new language without all its parts", { fr: { "email-code.txt": "{{code}}" } }, "fr/email-code.subject.txt: missing: email-code needs all of email-code.subject.txt, email-code.txt, email-code.html"],
  ])("refuse %s, naming the file", (_name, overrides, expected) => {
    expect(problemsOf(() => shipped(overrides as TemplateSources))).toContain(expected);
  });

  it("name every file at fault at once", () => {
    const message = problemsOf(() => shipped({ en: { "sms-code.txt": "{{cod}}" }, de: { "email-code.html": "" } }));
    expect(message).toContain("en/sms-code.txt: unknown placeholder {{cod}}");
    expect(message).toContain("; de/email-code.html: is empty");
  });
});

describe("the template language", () => {
  it("allows spaces inside braces, a lone }} (CSS) and leaves out an empty section", () => {
    const template = parseTemplate("{{ code }}{{#link}}[{{link}}]{{/link}} a{b{c}}", ["code", "link"]);
    expect(renderTemplate(template, { code: "1" })).toBe("1 a{b{c}}");
    expect(renderTemplate(template, { code: "1", link: "L" })).toBe("1[L] a{b{c}}");
  });
});
