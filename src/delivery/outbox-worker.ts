// Delivers sealed messages from the outbox at least once: a message is claimed with a lease, opened, handed to the
// provider and only then marked delivered (which wipes it). A crash between the two redelivers after the lease.
// Without a provider the worker still wipes messages whose code expired, so no code waits at rest for nothing.
import type { MessageSealer } from "../domain/outgoing-message.js";
import type { Clock, OutboxStore } from "../domain/ports.js";
import type { Logger } from "../logger.js";
import type { DeliveryProvider } from "./delivery-provider.js";

export interface OutboxWorkerOptions {
  outbox: OutboxStore;
  sealer: MessageSealer;
  provider?: DeliveryProvider;
  clock: Clock;
  logger: Logger;
  pollIntervalMs?: number;
  batchSize?: number;
}

export interface OutboxWorker {
  /** Delivers what is due now and wipes what expired; returns the number delivered. */
  runOnce(): Promise<number>;
  stop(): Promise<void>;
}

export function startOutboxWorker(options: OutboxWorkerOptions): OutboxWorker {
  const { outbox, sealer, provider, clock, logger } = options;
  const batchSize = options.batchSize ?? 50;
  let running: Promise<number> = Promise.resolve(0);

  async function deliverDue(): Promise<number> {
    await outbox.expire(clock.now());
    if (!provider) return 0;
    let delivered = 0;
    for (const message of await outbox.claimDue(clock.now(), batchSize)) {
      try {
        await provider.deliver(sealer.open(message.keyId, message.sealed));
        await outbox.markDelivered(message.id, clock.now());
        delivered++;
      } catch (error) {
        logger.warn("delivery failed; will retry", { messageId: message.id, channel: message.channel, error: (error as Error).message });
        await outbox.markFailed(message.id, clock.now(), (error as Error).message);
      }
    }
    return delivered;
  }

  const runOnce = () => {
    running = running.then(deliverDue, deliverDue);
    return running;
  };
  const timer = setInterval(() => {
    runOnce().catch((error: unknown) => logger.error("outbox worker failed", { error }));
  }, options.pollIntervalMs ?? 250);
  timer.unref();

  return {
    runOnce,
    async stop() {
      clearInterval(timer);
      await running.catch(() => undefined);
    },
  };
}
