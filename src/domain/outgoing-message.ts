// The text a person receives with a code. Composed here, sealed before it is stored, delivered by a provider.
import type { Channel } from "./errors.js";
import { renderUrlTemplate } from "./url-template.js";

export interface OutgoingMessage {
  channel: Channel;
  destination: string;
  subject: string;
  text: string;
}

export interface MessageInput {
  channel: Channel;
  destination: string;
  code: string;
  userId: string;
  orgId: string;
  urlTemplate?: string;
}

export function composeMessage(input: MessageInput): OutgoingMessage {
  const { channel, destination, code } = input;
  if (channel === "phone") {
    return { channel, destination, subject: "", text: `Your verification code is ${code}. It expires soon; do not share it.` };
  }
  const link = input.urlTemplate
    ? `\n\nOr open: ${renderUrlTemplate(input.urlTemplate, { UserID: input.userId, OrgID: input.orgId, Code: code })}`
    : "";
  return {
    channel,
    destination,
    subject: "Verify your email address",
    text: `Your verification code is ${code}.${link}\n\nIf you did not ask for it, ignore this message.`,
  };
}

/** Encrypts message bodies waiting for delivery, with a keyring so that older keys still open them. */
export interface MessageSealer {
  seal(message: OutgoingMessage): { keyId: string; sealed: Uint8Array };
  open(keyId: string, sealed: Uint8Array): OutgoingMessage;
}
