// gRPC's standard health service: SERVING while the storage works (reads answer and writes are not failing) and the
// server is not shutting down.
import { Code, ConnectError, type ServiceImpl } from "@connectrpc/connect";
import { type Health, HealthCheckResponse_ServingStatus as Status } from "../gen/grpc/health/v1/health_pb.js";

export interface HealthSource {
  /** Fully-qualified names of the services this server offers. */
  services: readonly string[];
  isServing(): boolean;
  /** Aborted when a shutdown begins: every watcher hears NOT_SERVING at once, as /readyz and Check say it. */
  stopping: AbortSignal;
  /**
   * Aborted when the server takes no more calls: every watch ends, since a watch is no call in flight that the
   * shutdown's grace should wait for (one open watch held every shutdown for the whole grace, then was cut).
   */
  stopped: AbortSignal;
}

/** How often a watch looks at the storage's health, which changes without telling anyone. */
const storagePollMs = 1_000;

export function createHealthHandler(source: HealthSource): ServiceImpl<typeof Health> {
  const statusNow = () => (source.isServing() ? Status.SERVING : Status.NOT_SERVING);
  const isKnown = (service: string) => service === "" || source.services.includes(service);
  return {
    check(req) {
      if (!isKnown(req.service)) throw new ConnectError(`unknown service ${req.service}`, Code.NotFound);
      return { status: statusNow() };
    },
    async *watch(req, context) {
      if (!isKnown(req.service)) {
        yield { status: Status.SERVICE_UNKNOWN };
        return;
      }
      let last: Status | undefined;
      for (;;) {
        const status = statusNow();
        if (status !== last) yield { status };
        last = status;
        if (context.signal.aborted || source.stopped.aborted) return;
        // Until the first of these: the storage's next look, the shutdown's start (once), its end, the client leaving.
        await firstOf(storagePollMs, source.stopping.aborted ? [source.stopped, context.signal] : [source.stopping, source.stopped, context.signal]);
      }
    },
  };
}

/** Resolves after `ms`, or as soon as one of `signals` aborts; leaves no listener or timer behind. */
function firstOf(ms: number, signals: readonly AbortSignal[]): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      for (const signal of signals) signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    for (const signal of signals) signal.addEventListener("abort", done, { once: true });
  });
}
