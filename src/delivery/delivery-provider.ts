import type { OutgoingMessage } from "../domain/outgoing-message.js";

/**
 * Hands a message to whoever carries it to the person (an SMS or email vendor); throws when it was not accepted.
 * `signal` aborts when the worker gives up waiting, so a hung vendor cannot stall delivery for everyone.
 */
export interface DeliveryProvider {
  deliver(message: OutgoingMessage, signal: AbortSignal): Promise<void>;
}
