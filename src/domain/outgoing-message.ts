// What a person receives: a code, or the notice that a verified contact was replaced. Composed here from the
// templates in the person's language, sealed before it is stored, delivered by a provider. How long a code is valid
// is worded again when the message is delivered, from the time left then: a message retried minutes later, or sent
// again by an operator, would otherwise promise the full lifetime.
import type { Channel } from "./errors.js";
import { lifetimeInWords } from "./messages/code-lifetime.js";
import { type MessageParts, type MessageTemplates, templatesFor } from "./messages/message-catalog.js";
import { type TemplateValues, escapeHtml, renderTemplate } from "./messages/message-template.js";
import { renderUrlTemplate } from "./url-template.js";

/** Why a message is sent: a code to verify a contact, or the notice to a verified contact that it was replaced. */
export type MessagePurpose = "code" | "contact-changed";

export interface OutgoingMessage {
  channel: Channel;
  destination: string;
  purpose: MessagePurpose;
  /** Email only (empty for SMS). */
  subject: string;
  text: string;
  /** Email only: the HTML alternative of `text`. */
  html?: string;
  /** A code message's lifetime as its text words it, and the language `withTimeLeft` words the time left in. */
  lifetime?: { words: string; language: string };
}

export interface CodeMessageInput {
  channel: Channel;
  destination: string;
  code: string;
  /** How long the code is valid when the message is made. */
  lifetimeMs: number;
  /** The person's preferred language (a BCP 47 tag such as "de-CH"), if known. */
  language?: string;
  userId: string;
  orgId: string;
  urlTemplate?: string;
}

export function composeCodeMessage(templates: MessageTemplates, input: CodeMessageInput): OutgoingMessage {
  const { channel, code } = input;
  const { language, parts } = templatesFor(templates, channel, "code", input.language);
  const { urlTemplate, userId, orgId } = input;
  const link = urlTemplate && renderUrlTemplate(urlTemplate, { UserID: userId, OrgID: orgId, Code: code });
  // Worded in full now, so that a worker of an earlier version (during a rolling upgrade) still sends a whole message.
  const words = lifetimeInWords(input.lifetimeMs, language);
  const message = compose(input, "code", parts, {
    app_name: templates.appName,
    code,
    lifetime: words,
    ...(link ? { link } : {}),
  });
  message.lifetime = { words, language };
  // WebOTP: a browser offers the code for autofill on the origin named in the message's last line.
  if (channel === "phone" && templates.webOtpHost) message.text += `\n\n@${templates.webOtpHost} #${code}`;
  return message;
}

/**
 * The message as delivered now: its lifetime's words replaced by the time left until `expiresAt`, in whole minutes from
 * two minutes on and in steps of 10 seconds below, rounded down (a message is never sent promising more time than
 * there is) unless the next step is a few seconds away, the time a delivery at once takes. Messages without a lifetime
 * (notices, and codes sealed by an earlier version) stay as they are.
 */
export function withTimeLeft(message: OutgoingMessage, expiresAt: Date, now: Date): OutgoingMessage {
  if (message.lifetime === undefined) return message;
  const { words: made, language } = message.lifetime;
  const leftMs = expiresAt.getTime() - now.getTime();
  const [step, slack] = leftMs < 120_000 ? [10_000, 5_000] : [60_000, 15_000];
  const words = lifetimeInWords(Math.max(Math.floor((leftMs + slack) / step), 1) * step, language);
  const fill = (text: string) => text.replaceAll(made, words);
  return {
    ...message,
    subject: fill(message.subject),
    text: fill(message.text),
    ...(message.html === undefined ? {} : { html: fill(message.html) }),
  };
}

/** The notice to a verified phone number or address that it is being replaced or removed (OWASP ASVS V2.5). */
export function composeChangeNotice(
  templates: MessageTemplates,
  input: { channel: Channel; destination: string; language?: string },
): OutgoingMessage {
  const { parts } = templatesFor(templates, input.channel, "contact-changed", input.language);
  return compose(input, "contact-changed", parts, { app_name: templates.appName });
}

function compose(
  { channel, destination }: { channel: Channel; destination: string },
  purpose: MessagePurpose,
  parts: MessageParts,
  values: TemplateValues,
): OutgoingMessage {
  return {
    channel,
    destination,
    purpose,
    subject: parts.subject ? renderTemplate(parts.subject, values) : "",
    text: renderTemplate(parts.text, values),
    ...(parts.html ? { html: renderTemplate(parts.html, values, escapeHtml) } : {}),
  };
}

/** Encrypts message bodies waiting for delivery, with a keyring so that older keys still open them. */
export interface MessageSealer {
  /** The keys it opens messages of. */
  keyIds: readonly string[];
  seal(message: OutgoingMessage): { keyId: string; sealed: Uint8Array };
  open(keyId: string, sealed: Uint8Array): OutgoingMessage;
}
