// How far delivery lags: messages waiting, the age of the oldest, and messages delivery gave up on, read from the
// store at each scrape, so they are right across restarts and for every process sharing the database.
import { Gauge, type Registry } from "prom-client";
import type { Clock } from "../domain/ports.js";

export interface OutboxBacklog {
  backlog(now: Date): Promise<{ pending: number; oldestPendingCreatedAt?: Date; dead: number }>;
}

export function createOutboxMetrics(registry: Registry, source: OutboxBacklog, clock: Clock): void {
  let current: ReturnType<OutboxBacklog["backlog"]> | undefined;
  // The gauges collect on the same scrape: one read serves them.
  const read = () => {
    current ??= source.backlog(clock.now()).finally(() => {
      current = undefined;
    });
    return current;
  };
  new Gauge({
    name: "verifyd_outbox_pending_messages",
    help: "Messages waiting for delivery (not yet delivered, code not expired).",
    registers: [registry],
    async collect() {
      this.set((await read()).pending);
    },
  });
  new Gauge({
    name: "verifyd_outbox_oldest_pending_age_seconds",
    help: "Age of the oldest message waiting for delivery; 0 when none waits.",
    registers: [registry],
    async collect() {
      const { oldestPendingCreatedAt } = await read();
      this.set(oldestPendingCreatedAt ? Math.max(0, (clock.now().getTime() - oldestPendingCreatedAt.getTime()) / 1000) : 0);
    },
  });
  new Gauge({
    name: "verifyd_outbox_dead_messages",
    help: "Messages delivery gave up on whose code is still valid: `verifyd outbox list-dead` shows them, `verifyd outbox retry` sends them again.",
    registers: [registry],
    async collect() {
      this.set((await read()).dead);
    },
  });
}
