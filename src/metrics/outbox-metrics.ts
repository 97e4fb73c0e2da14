// How far delivery lags: messages waiting, the age of the oldest, and messages delivery gave up on, read from the
// store at each scrape, so they are right across restarts and for every process sharing the database.
import { Gauge, type Registry } from "prom-client";
import type { Clock } from "../domain/ports.js";

export interface OutboxBacklog {
  backlog(now: Date): Promise<{ pending: number; oldestPendingCreatedAt?: Date; dead: number }>;
}

/** Longer than a read takes on a healthy database, shorter than a scraper waits (Prometheus: 10 s by default). */
const backlogReadTimeoutMs = 2_000;

type Backlog = Awaited<ReturnType<OutboxBacklog["backlog"]>>;

export function createOutboxMetrics(registry: Registry, source: OutboxBacklog, clock: Clock): void {
  let current: Promise<Backlog> | undefined;
  // While the database fails or stalls, the gauges keep the last values read, and the scrape still answers with every
  // other metric (verifyd_storage_healthy says why they stand still): a failed scrape would hide them all.
  let lastRead: Backlog = { pending: 0, dead: 0 };
  // The gauges collect on the same scrape: one read serves them.
  const read = () => {
    current ??= Promise.race([
      source.backlog(clock.now()).then((backlog) => (lastRead = backlog)),
      new Promise<never>((_resolve, reject) => setTimeout(reject, backlogReadTimeoutMs).unref()),
    ])
      .catch(() => lastRead)
      .finally(() => {
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
