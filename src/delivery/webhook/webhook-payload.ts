// The JSON body of a delivery webhook, in Standard Webhooks' recommended shape (type, timestamp, data).
import type { OutgoingMessage } from "../../domain/outgoing-message.js";

export const verificationMessageType = "verification.message";

export interface WebhookPayload {
  type: typeof verificationMessageType;
  /** When this attempt was made (RFC 3339); the same moment as the webhook-timestamp header. */
  timestamp: string;
  data: {
    /** The same on every attempt, and equal to the webhook-id header: the receiver's idempotency key. */
    messageId: string;
    channel: OutgoingMessage["channel"];
    /** `code`, or `contact-changed`: the notice to a verified number or address that it is being replaced or removed. */
    purpose: OutgoingMessage["purpose"];
    /** E.164 phone number or email address. */
    to: string;
    /** Email only. */
    subject?: string;
    /** Ready to send as it is; it carries the code (a notice of a changed contact carries none). */
    text: string;
    /** Email only: the HTML alternative of `text`, ready to send as it is. */
    html?: string;
  };
}

export function webhookPayload(message: OutgoingMessage, messageId: string, at: Date): WebhookPayload {
  return {
    type: verificationMessageType,
    timestamp: at.toISOString(),
    data: {
      messageId,
      channel: message.channel,
      purpose: message.purpose,
      to: message.destination,
      ...(message.channel === "email" ? { subject: message.subject } : {}),
      text: message.text,
      ...(message.html === undefined ? {} : { html: message.html }),
    },
  };
}
