// Deliveries by channel, provider and outcome: how many messages reach people, and how often a provider fails.
import { Counter, type Registry } from "prom-client";
import type { DeliveryOutcome } from "../delivery/outbox-worker.js";
import type { Channel } from "../domain/errors.js";

export type DeliveryMetrics = (outcome: DeliveryOutcome, provider: string, channel: Channel) => void;

export function createDeliveryMetrics(registry: Registry): DeliveryMetrics {
  const deliveries = new Counter({
    name: "verifyd_deliveries_total",
    help: "Delivery attempts by channel, provider and outcome (delivered, failed and retried later, dead when retries ran out or the provider refused for good, discarded when no key opens it).",
    labelNames: ["channel", "provider", "outcome"] as const,
    registers: [registry],
  });
  return (outcome, provider, channel) => deliveries.inc({ channel, provider, outcome });
}
