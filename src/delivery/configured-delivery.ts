// Chooses each channel's provider from the configuration: SMS through Twilio, else its webhook; email through SMTP,
// else its webhook; else the development console sink with --dev-print-codes; else none. The configuration refuses
// two providers for one channel, so the order only matters for the console sink.
import type { Config } from "../config.js";
import type { Channel } from "../domain/errors.js";
import { routeByChannel } from "./channel-router.js";
import { createConsoleSink } from "./console-sink.js";
import type { DeliveryProvider } from "./delivery-provider.js";
import { createTwilioProvider } from "./twilio/twilio-provider.js";
import { createWebhookProvider } from "./webhook/webhook-provider.js";

export interface ConfiguredDelivery {
  /** Absent when no channel has a provider: the worker then only wipes expired messages. */
  provider?: DeliveryProvider;
  /** Each delivered channel's provider, for the log and the deliveries metric: "twilio", "smtp", "webhook", "console". */
  names: Partial<Record<Channel, string>>;
  /** Channels whose messages are never delivered. */
  undelivered: Channel[];
  /** Closes what the providers keep open between messages (the SMTP connection). */
  close(): void;
}

interface ChannelProvider {
  name: string;
  provider: DeliveryProvider;
}

const channels: Channel[] = ["phone", "email"];

export async function configuredDelivery(config: Pick<Config, "delivery" | "devPrintCodes">): Promise<ConfiguredDelivery> {
  const { delivery } = config;
  // Loaded only when SMTP is configured: nodemailer is memory that every other deployment never uses.
  const smtp = delivery.smtp
    ? (await import("./smtp/smtp-provider.js")).createSmtpProvider(delivery.smtp, delivery.timeoutMs)
    : undefined;
  const webhook = (channel: Channel): ChannelProvider | undefined => {
    const url = delivery.webhook?.urls[channel];
    return url && delivery.webhook ? { name: "webhook", provider: createWebhookProvider({ url, key: delivery.webhook.key }) } : undefined;
  };
  const vendors: Record<Channel, ChannelProvider | undefined> = {
    phone: delivery.twilio ? { name: "twilio", provider: createTwilioProvider(delivery.twilio) } : undefined,
    email: smtp ? { name: "smtp", provider: smtp } : undefined,
  };
  const consoleSink = config.devPrintCodes ? { name: "console", provider: createConsoleSink() } : undefined;

  const providers: Partial<Record<Channel, DeliveryProvider>> = {};
  const names: Partial<Record<Channel, string>> = {};
  const undelivered: Channel[] = [];
  for (const channel of channels) {
    const chosen = vendors[channel] ?? webhook(channel) ?? consoleSink;
    if (chosen) {
      providers[channel] = chosen.provider;
      names[channel] = chosen.name;
    } else {
      undelivered.push(channel);
    }
  }
  const close = () => smtp?.close();
  if (undelivered.length === channels.length) return { names, undelivered, close };
  return { provider: routeByChannel(providers), names, undelivered, close };
}
