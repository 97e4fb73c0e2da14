// At debug level, each attempt at handing a message to its provider: which message, the channel, the recipient
// (masked by the logger's redaction) and how long the provider took to answer. Outcomes are the outbox worker's to log.
import type { Logger } from "../logger.js";
import type { DeliveryProvider } from "./delivery-provider.js";

export function withDeliveryLog(provider: DeliveryProvider, logger: Logger): DeliveryProvider {
  return {
    async deliver(message, signal, messageId) {
      const attempt = { messageId, channel: message.channel, destination: message.destination };
      logger.debug("delivery attempt", attempt);
      const started = performance.now();
      const answered = (accepted: boolean) =>
        logger.debug("delivery attempt answered", { ...attempt, accepted, durationMs: Math.round(performance.now() - started) });
      try {
        await provider.deliver(message, signal, messageId);
      } catch (error) {
        answered(false);
        throw error;
      }
      answered(true);
    },
  };
}
