// How far delivery lags: messages waiting and the age of the oldest, read from the store at each scrape, so they
// are right across restarts and for every process sharing the database.
import { Gauge, type Registry } from "prom-client";
import type { Clock } from "../domain/ports.js";

export interface OutboxBacklog {
  pendingBacklog(now: Date): Promise<{ messages: number; oldestCreatedAt?: Date }>;
}

export function createOutboxMetrics(registry: Registry, backlog: OutboxBacklog, clock: Clock): void {
  let current: Promise<{ messages: number; oldestCreatedAt?: Date }> | undefined;
  // Both gauges collect on the same scrape: one query serves them.
  const read = () => {
    current ??= backlog.pendingBacklog(clock.now()).finally(() => {
      current = undefined;
    });
    return current;
  };
  new Gauge({
    name: "verifyd_outbox_pending_messages",
    help: "Messages waiting for delivery (not yet delivered, code not expired).",
    registers: [registry],
    async collect() {
      this.set((await read()).messages);
    },
  });
  new Gauge({
    name: "verifyd_outbox_oldest_pending_age_seconds",
    help: "Age of the oldest message waiting for delivery; 0 when none waits.",
    registers: [registry],
    async collect() {
      const { oldestCreatedAt } = await read();
      this.set(oldestCreatedAt ? Math.max(0, (clock.now().getTime() - oldestCreatedAt.getTime()) / 1000) : 0);
    },
  });
}
