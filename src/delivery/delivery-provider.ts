import type { OutgoingMessage } from "../domain/outgoing-message.js";

/** Hands a message to whoever carries it to the person (an SMS or email vendor); throws when it was not accepted. */
export interface DeliveryProvider {
  deliver(message: OutgoingMessage): Promise<void>;
}
