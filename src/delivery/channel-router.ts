// One provider per channel (a webhook for SMS, the console for email, …). A channel left without one (a message
// from before its provider was taken out of the configuration) cannot be delivered by any retry: its messages are
// dead at once, for an operator to retry once the channel has a provider again.
import type { Channel } from "../domain/errors.js";
import type { DeliveryProvider } from "./delivery-provider.js";
import { PermanentDeliveryFailure } from "./permanent-delivery-failure.js";

export function routeByChannel(providers: Partial<Record<Channel, DeliveryProvider>>): DeliveryProvider {
  return {
    async deliver(message, signal, messageId) {
      const provider = providers[message.channel];
      if (!provider) throw new PermanentDeliveryFailure(`no delivery provider for the ${message.channel} channel`);
      await provider.deliver(message, signal, messageId);
    },
  };
}
