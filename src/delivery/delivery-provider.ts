import type { OutgoingMessage } from "../domain/outgoing-message.js";

/**
 * Hands a message to whoever carries it to the person (an SMS or email vendor); throws when it was not accepted,
 * a `PermanentDeliveryFailure` when no retry can help. `signal` aborts when the worker gives up waiting, so a hung
 * vendor cannot stall delivery for everyone. `messageId` is the same on every attempt at one message: the vendor's
 * idempotency key, so that a retry after a lost answer is recognised as one.
 */
export interface DeliveryProvider {
  deliver(message: OutgoingMessage, signal: AbortSignal, messageId: string): Promise<void>;
}
