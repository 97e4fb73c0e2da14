// What makes two destinations of a code one: the same number (E.164 already), or the same mailbox in any letter case.
import { mailboxOf } from "./email-address.js";
import type { Channel } from "./errors.js";

export function destinationKey(channel: Channel, destination: string): string {
  return channel === "email" ? mailboxOf(destination) : destination;
}
