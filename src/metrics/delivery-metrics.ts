// Deliveries by channel, provider and outcome: how many messages reach people, and how often a provider fails; and
// how long providers take to answer, which grows before they fail.
import { Counter, Histogram, type Registry } from "prom-client";
import type { DeliveryOutcome } from "../delivery/outbox-worker.js";
import type { Channel } from "../domain/errors.js";

export interface DeliveryMetrics {
  counted(outcome: DeliveryOutcome, provider: string, channel: Channel): void;
  /** A provider's answer (or its silence until the delivery timeout), `seconds` after the message was handed to it. */
  answered(channel: Channel, provider: string, seconds: number): void;
}

// From a webhook on the same network to a vendor's API far away, up to the default delivery timeout.
const answerBuckets = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export function createDeliveryMetrics(registry: Registry): DeliveryMetrics {
  const deliveries = new Counter({
    name: "verifyd_deliveries_total",
    help: "Delivery attempts by channel, provider and outcome (delivered, failed and retried later, dead when retries ran out or the provider refused for good, discarded when no key opens it).",
    labelNames: ["channel", "provider", "outcome"] as const,
    registers: [registry],
  });
  const answers = new Histogram({
    name: "verifyd_delivery_duration_seconds",
    help: "Time from handing a message to its provider to the provider's answer, accepted or not (a timeout counts as --delivery-timeout).",
    labelNames: ["channel", "provider"] as const,
    buckets: answerBuckets,
    registers: [registry],
  });
  return {
    counted: (outcome, provider, channel) => deliveries.inc({ channel, provider, outcome }),
    answered: (channel, provider, seconds) => answers.observe({ channel, provider }, seconds),
  };
}
