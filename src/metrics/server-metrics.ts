// One server's metrics, on a registry of its own rather than prom-client's global one: two servers in one process
// (as in the tests) then count separately and never register a metric twice.
import { Registry, collectDefaultMetrics } from "prom-client";
import type { CallOutcomeObserver } from "../api/call-outcomes.js";
import type { Clock } from "../domain/ports.js";
import { type CallMetrics, createCallMetrics } from "./call-metrics.js";
import { type DeliveryMetrics, createDeliveryMetrics } from "./delivery-metrics.js";
import { type OutboxBacklog, createOutboxMetrics } from "./outbox-metrics.js";
import { createOutcomeMetrics } from "./outcome-metrics.js";

export interface ServerMetrics {
  registry: Registry;
  calls: CallMetrics;
  outcomes: CallOutcomeObserver;
  deliveries: DeliveryMetrics;
}

export function createServerMetrics(options: { outbox: OutboxBacklog; clock: Clock }): ServerMetrics {
  const registry = new Registry();
  // The process's CPU, memory, event loop lag, GC and handles, as every Node exporter has them.
  collectDefaultMetrics({ register: registry });
  createOutboxMetrics(registry, options.outbox, options.clock);
  return {
    registry,
    calls: createCallMetrics(registry),
    outcomes: createOutcomeMetrics(registry),
    deliveries: createDeliveryMetrics(registry),
  };
}
