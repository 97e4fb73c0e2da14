// The templates verifyd ships, under the same file names an operator's templates directory uses. SMS texts stay in
// GSM-7 (umlauts and ß are in it) and, in English, in one segment of 160 characters with the WebOTP line.
import type { TemplateSources } from "./message-catalog.js";

/** One HTML document around a message's paragraphs, so that every email looks the same. */
function htmlEmail(language: string, title: string, paragraphs: string[]): string {
  return [
    "<!DOCTYPE html>",
    `<html lang="${language}">`,
    `<head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>${title}</title></head>`,
    '<body style="font-family: Helvetica, Arial, sans-serif; line-height: 1.5; color: #222222; max-width: 560px;">',
    ...paragraphs,
    "</body>",
    "</html>",
  ].join("\n");
}

const codeParagraph = '<p style="font-size: 28px; font-weight: bold; letter-spacing: 4px;">{{code}}</p>';

export const shippedTemplates: TemplateSources = {
  en: {
    "sms-code.txt": "Your {{app_name}} verification code is {{code}}. It expires in {{lifetime}}. Do not share it.",
    "sms-contact-changed.txt":
      "The phone number of your {{app_name}} account was changed. If this was not you, contact {{app_name}} support right away.",
    "email-code.subject.txt": "Verify your email address",
    "email-code.txt":
      "Your {{app_name}} verification code is {{code}}. It expires in {{lifetime}}.\n\n" +
      "{{#link}}Or open this link to verify your address: {{link}}\n\n{{/link}}" +
      "If you did not ask for it, ignore this message.",
    "email-code.html": htmlEmail("en", "Verify your email address", [
      "<p>Your {{app_name}} verification code is:</p>",
      codeParagraph,
      "<p>It expires in {{lifetime}}.</p>",
      '{{#link}}<p><a href="{{link}}">Verify your email address</a></p>{{/link}}',
      "<p>If you did not ask for it, ignore this message.</p>",
    ]),
    "email-contact-changed.subject.txt": "The email address of your {{app_name}} account was changed",
    "email-contact-changed.txt":
      "The email address of your {{app_name}} account was changed.\n\n" +
      "If this was not you, contact {{app_name}} support right away: someone else may have access to your account.",
    "email-contact-changed.html": htmlEmail("en", "Your email address was changed", [
      "<p>The email address of your {{app_name}} account was changed.</p>",
      "<p>If this was not you, contact {{app_name}} support right away: someone else may have access to your account.</p>",
    ]),
  },
  de: {
    "sms-code.txt": "Ihr Bestätigungscode für {{app_name}} lautet {{code}}. Er ist {{lifetime}} gültig. Geben Sie ihn nicht weiter.",
    "sms-contact-changed.txt":
      "Die Telefonnummer Ihres Kontos bei {{app_name}} wurde geändert. Falls Sie das nicht waren, wenden Sie sich sofort an den Support.",
    "email-code.subject.txt": "Bestätigen Sie Ihre E-Mail-Adresse",
    "email-code.txt":
      "Ihr Bestätigungscode für {{app_name}} lautet {{code}}. Er ist {{lifetime}} gültig.\n\n" +
      "{{#link}}Oder öffnen Sie diesen Link, um Ihre Adresse zu bestätigen: {{link}}\n\n{{/link}}" +
      "Falls Sie ihn nicht angefordert haben, ignorieren Sie diese Nachricht.",
    "email-code.html": htmlEmail("de", "Bestätigen Sie Ihre E-Mail-Adresse", [
      "<p>Ihr Bestätigungscode für {{app_name}} lautet:</p>",
      codeParagraph,
      "<p>Er ist {{lifetime}} gültig.</p>",
      '{{#link}}<p><a href="{{link}}">E-Mail-Adresse bestätigen</a></p>{{/link}}',
      "<p>Falls Sie ihn nicht angefordert haben, ignorieren Sie diese Nachricht.</p>",
    ]),
    "email-contact-changed.subject.txt": "Die E-Mail-Adresse Ihres Kontos bei {{app_name}} wurde geändert",
    "email-contact-changed.txt":
      "Die E-Mail-Adresse Ihres Kontos bei {{app_name}} wurde geändert.\n\n" +
      "Falls Sie das nicht waren, wenden Sie sich sofort an den Support von {{app_name}}: Jemand anderes hat möglicherweise Zugriff auf Ihr Konto.",
    "email-contact-changed.html": htmlEmail("de", "Ihre E-Mail-Adresse wurde geändert", [
      "<p>Die E-Mail-Adresse Ihres Kontos bei {{app_name}} wurde geändert.</p>",
      "<p>Falls Sie das nicht waren, wenden Sie sich sofort an den Support von {{app_name}}: Jemand anderes hat möglicherweise Zugriff auf Ihr Konto.</p>",
    ]),
  },
};
