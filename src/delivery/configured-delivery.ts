// Chooses each channel's provider from the configuration: its webhook when it has a URL, else the development
// console sink with --dev-print-codes, else none.
import type { Config } from "../config.js";
import type { Channel } from "../domain/errors.js";
import { routeByChannel } from "./channel-router.js";
import { createConsoleSink } from "./console-sink.js";
import type { DeliveryProvider } from "./delivery-provider.js";
import { createWebhookProvider } from "./webhook/webhook-provider.js";

export interface ConfiguredDelivery {
  /** Absent when no channel has a provider: the worker then only wipes expired messages. */
  provider?: DeliveryProvider;
  /** For the deliveries metric: the providers in use, e.g. "webhook" or "webhook+console". */
  name: string;
  /** Channels whose messages are never delivered. */
  undelivered: Channel[];
}

const channels: Channel[] = ["phone", "email"];

export function configuredDelivery(config: Pick<Config, "delivery" | "devPrintCodes">): ConfiguredDelivery {
  const consoleSink = config.devPrintCodes ? createConsoleSink() : undefined;
  const providers: Partial<Record<Channel, DeliveryProvider>> = {};
  const names = new Set<string>();
  const undelivered: Channel[] = [];
  for (const channel of channels) {
    const url = config.delivery.webhook?.urls[channel];
    if (url && config.delivery.webhook) {
      providers[channel] = createWebhookProvider({ url, key: config.delivery.webhook.key });
      names.add("webhook");
    } else if (consoleSink) {
      providers[channel] = consoleSink;
      names.add("console");
    } else {
      undelivered.push(channel);
    }
  }
  if (names.size === 0) return { name: "none", undelivered };
  return { provider: routeByChannel(providers), name: [...names].join("+"), undelivered };
}
