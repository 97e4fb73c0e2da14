// The events of the user aggregate, named as ZITADEL names them. Payloads never hold a code or a password in plain
// text: a password travels as its argon2id hash, as in ZITADEL.
import type { Channel } from "./errors.js";

export interface Profile {
  givenName: string;
  familyName: string;
  nickName?: string;
  displayName?: string;
  preferredLanguage?: string;
  gender?: number;
}

/** How the person gets the code: by SMS or email, or back in the response to a trusted caller. */
export type CodeDelivery = "send" | "return";

export interface CodeAddedPayload {
  /** base64url HMAC of the code, bound to user, channel and destination. */
  hash: string;
  keyId: string;
  /** ISO 8601 */
  expiresAt: string;
  delivery: CodeDelivery;
  urlTemplate?: string;
}

export type EventBody =
  | { type: "user.human.added"; payload: { username: string; profile: Profile; email?: string; phone?: string } }
  | { type: "user.machine.added"; payload: { username: string; name: string; description: string } }
  | { type: UserStatusEventType; payload: Record<string, never> }
  /** `encodedHash` is an argon2id PHC string. */
  | { type: "user.human.password.changed"; payload: { encodedHash: string } }
  | { type: `user.human.${Channel}.changed`; payload: { value: string } }
  | { type: `user.human.${Channel}.code.added`; payload: CodeAddedPayload }
  /** A provider accepted the message with the code; `messageId` is its idempotency key (the webhook-id). */
  | { type: `user.human.${Channel}.code.sent`; payload: { messageId: string } }
  /** Delivery gave up (retries ran out, or the provider refused for good); an operator may still retry it. */
  | { type: `user.human.${Channel}.code.send.failed`; payload: { messageId: string; reason: string } }
  | { type: `user.human.${Channel}.verified`; payload: { value: string } }
  | { type: `user.human.${Channel}.verification.failed`; payload: { reason: string } }
  | { type: `user.human.${Channel}.removed`; payload: Record<string, never> };

export type UserStatusEventType = "user.deactivated" | "user.reactivated" | "user.locked" | "user.unlocked";

export type UserEvent = EventBody & {
  aggregateId: string;
  /** The user's own counter: 1 for the first event. */
  sequence: number;
  resourceOwner: string;
  createdAt: Date;
};

/**
 * The event a body becomes when it is appended to user `aggregateId`'s stream. Built field by field, never by spreading
 * the body: bodies come in many shapes, and V8 copies a spread of objects of many shapes on its slow path (2.8 µs
 * against 0.05 µs in a microbenchmark), into an object every later use of the event then reads slowly too.
 */
export function stampedEvent(body: EventBody, aggregateId: string, sequence: number, resourceOwner: string, createdAt: Date): UserEvent {
  return { type: body.type, payload: body.payload, aggregateId, sequence, resourceOwner, createdAt } as UserEvent;
}

export interface ContactEventType {
  readonly channel: Channel;
  readonly action: string;
}

// Every change applies its events and looks at what they make worthless, so the same few types are split again and
// again: each is split once. Bounded all the same, since a database may hold types this version does not know.
const contactEventTypes = new Map<string, ContactEventType | undefined>();
const maxRememberedTypes = 256;

/** Splits "user.human.phone.code.added" into its channel and the channel-independent action. */
export function parseContactEventType(type: string): ContactEventType | undefined {
  if (contactEventTypes.has(type)) return contactEventTypes.get(type);
  const match = /^user\.human\.(phone|email)\.(.+)$/.exec(type);
  const parsed = match ? { channel: match[1] as Channel, action: match[2] as string } : undefined;
  if (contactEventTypes.size < maxRememberedTypes) contactEventTypes.set(type, parsed);
  return parsed;
}
