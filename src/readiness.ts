// What GET /readyz checks before a server should be sent calls: the database answers reads and takes writes, it has
// every migration of this build, the outbox worker runs (or codes asked for would wait undelivered), and the server
// is not shutting down, draining its calls.
import type { OutboxWorker } from "./delivery/outbox-worker.js";
import type { StorageHealth } from "./store/storage-health.js";
import type { ReadinessChecks } from "./transport/probe-endpoint.js";

export interface ReadinessSources {
  storage: StorageHealth;
  pendingMigrations(): number;
  outbox: OutboxWorker;
  isClosing(): boolean;
}

export function readinessChecks(sources: ReadinessSources): ReadinessChecks {
  return {
    storage: () => (sources.storage.isHealthy() ? undefined : "reads or writes fail"),
    migrations: () => {
      const pending = sources.pendingMigrations();
      return pending === 0 ? undefined : `${pending} not applied`;
    },
    // A shutdown stops the worker itself, while calls drain: "shutdown" says so.
    outbox: () => (sources.outbox.isRunning() || sources.isClosing() ? undefined : "stopped"),
    shutdown: () => (sources.isClosing() ? "draining" : undefined),
  };
}
