// One server's metrics, on a registry of its own rather than prom-client's global one: two servers in one process
// (as in the tests) then count separately and never register a metric twice.
import { Gauge, Registry, collectDefaultMetrics } from "prom-client";
import type { CallOutcomeObserver } from "../api/call-outcomes.js";
import type { Clock } from "../domain/ports.js";
import { type CallMetrics, type RefusalCounter, createCallMetrics, createRefusalMetrics } from "./call-metrics.js";
import {
  type ConnectionRefusalCounter,
  type StreamRefusalCounter,
  createConnectionRefusalMetrics,
  createStreamRefusalMetrics,
} from "./connection-metrics.js";
import { type DeliveryMetrics, createDeliveryMetrics } from "./delivery-metrics.js";
import { type OutboxBacklog, createOutboxMetrics } from "./outbox-metrics.js";
import { createOutcomeMetrics } from "./outcome-metrics.js";

export interface ServerMetrics {
  registry: Registry;
  calls: CallMetrics;
  refusals: RefusalCounter;
  connectionsRefused: ConnectionRefusalCounter;
  streamsRefused: StreamRefusalCounter;
  outcomes: CallOutcomeObserver;
  deliveries: DeliveryMetrics;
}

export interface ServerMetricsSources {
  outbox: OutboxBacklog;
  clock: Clock;
  /** This build's version, for telling which instances a rollout has reached. */
  version: string;
  /** Whether the database takes reads and writes (storage-health.ts). */
  storageHealthy(): boolean;
}

export function createServerMetrics(options: ServerMetricsSources): ServerMetrics {
  const registry = new Registry();
  // The process's CPU, memory, event loop lag, GC and handles, as every Node exporter has them.
  collectDefaultMetrics({ register: registry });
  createOutboxMetrics(registry, options.outbox, options.clock);
  new Gauge({
    name: "verifyd_build_info",
    help: "Always 1; its version label says which build this process runs.",
    labelNames: ["version"] as const,
    registers: [registry],
  }).set({ version: options.version }, 1);
  new Gauge({
    name: "verifyd_storage_healthy",
    help: "1 while the database takes reads and writes, 0 during a storage failure (calls answer Unavailable; /readyz fails).",
    registers: [registry],
    collect() {
      this.set(options.storageHealthy() ? 1 : 0);
    },
  });
  return {
    registry,
    calls: createCallMetrics(registry),
    refusals: createRefusalMetrics(registry),
    connectionsRefused: createConnectionRefusalMetrics(registry),
    streamsRefused: createStreamRefusalMetrics(registry),
    outcomes: createOutcomeMetrics(registry),
    deliveries: createDeliveryMetrics(registry),
  };
}
