// Development only: prints messages, codes included, to stdout. Refused in production by the configuration.
import type { DeliveryProvider } from "./delivery-provider.js";

export function createConsoleSink(write: (line: string) => void = (line) => process.stdout.write(line)): DeliveryProvider {
  return {
    async deliver(message) {
      write(`${JSON.stringify({ devMessage: { channel: message.channel, to: message.destination, subject: message.subject, text: message.text } })}\n`);
    },
  };
}
