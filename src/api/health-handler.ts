// gRPC's standard health service: SERVING while the storage works (reads answer and writes are not failing) and the
// server is not shutting down.
import { setTimeout as sleep } from "node:timers/promises";
import { Code, ConnectError, type ServiceImpl } from "@connectrpc/connect";
import { type Health, HealthCheckResponse_ServingStatus as Status } from "../gen/grpc/health/v1/health_pb.js";

export interface HealthSource {
  /** Fully-qualified names of the services this server offers. */
  services: readonly string[];
  isServing(): boolean;
}

const watchIntervalMs = 5_000;

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
      while (!context.signal.aborted) {
        const status = statusNow();
        if (status !== last) yield { status };
        last = status;
        await sleep(watchIntervalMs, undefined, { signal: context.signal }).catch(() => undefined);
      }
    },
  };
}
