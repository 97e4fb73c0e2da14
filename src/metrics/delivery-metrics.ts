// Deliveries by provider and outcome: how many messages reach people, and how often a provider fails.
import { Counter, type Registry } from "prom-client";
import type { DeliveryOutcome } from "../delivery/outbox-worker.js";

export type DeliveryMetrics = (outcome: DeliveryOutcome, provider: string) => void;

export function createDeliveryMetrics(registry: Registry): DeliveryMetrics {
  const deliveries = new Counter({
    name: "verifyd_deliveries_total",
    help: "Delivery attempts by provider and outcome (delivered, failed and retried later, dead when retries ran out or the provider refused for good, discarded when no key opens it).",
    labelNames: ["provider", "outcome"] as const,
    registers: [registry],
  });
  return (outcome, provider) => deliveries.inc({ provider, outcome });
}
