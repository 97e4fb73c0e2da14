// What became of a code's message, recorded on the user's stream as ZITADEL records it (`user.human.phone.code.sent`),
// with a `code.send.failed` beside it when delivery gave up, in the form of ZITADEL's `…check.failed`.
import type { Channel } from "./errors.js";
import type { EventBody } from "./events.js";

export function codeSentEvent(channel: Channel, messageId: string): EventBody {
  return { type: `user.human.${channel}.code.sent`, payload: { messageId } };
}

/** `reason` is shown to whoever reads the user's events: no secret, and no contact but masked. */
export function codeSendFailedEvent(channel: Channel, messageId: string, reason: string): EventBody {
  return { type: `user.human.${channel}.code.send.failed`, payload: { messageId, reason } };
}
