// Delivers sealed messages from the outbox at least once: a message is claimed with a lease, opened, handed to the
// provider and only then marked delivered (which wipes it). A crash between the two redelivers after the lease.
// Without a provider the worker still wipes messages whose code expired, so no code waits at rest for nothing, and
// deletes delivered and expired rows after a retention period, so a resend flood does not grow the table for ever.
import { DomainError } from "../domain/errors.js";
import type { MessageSealer, OutgoingMessage } from "../domain/outgoing-message.js";
import type { Clock, OutboxStore } from "../domain/ports.js";
import type { Logger } from "../logger.js";
import type { DeliveryProvider } from "./delivery-provider.js";
import { PermanentDeliveryFailure } from "./permanent-delivery-failure.js";

/** What became of one claimed message: sent, failed (retried after a back-off), or dropped as undeliverable. */
export type DeliveryOutcome = "delivered" | "failed" | "discarded";

export interface OutboxWorkerOptions {
  outbox: OutboxStore;
  sealer: MessageSealer;
  provider?: DeliveryProvider;
  clock: Clock;
  logger: Logger;
  /** Delivered and expired messages are deleted this long after their code expired. */
  retentionMs: number;
  pollIntervalMs?: number;
  batchSize?: number;
  /** A delivery that takes longer fails (and is retried after a back-off). */
  deliveryTimeoutMs?: number;
  /** Told each claimed message's outcome, for the metrics. */
  onDelivery?: (outcome: DeliveryOutcome) => void;
}

export interface OutboxWorker {
  /** Delivers what is due now, wipes what expired and deletes what is past retention; returns the number delivered. */
  runOnce(): Promise<number>;
  /** From the start until stop(): failed runs do not end it, the next tick runs again. */
  isRunning(): boolean;
  stop(): Promise<void>;
}

export function startOutboxWorker(options: OutboxWorkerOptions): OutboxWorker {
  const { outbox, sealer, provider, clock, logger, retentionMs } = options;
  const onDelivery = options.onDelivery ?? (() => undefined);
  const batchSize = options.batchSize ?? 50;
  const deliveryTimeoutMs = options.deliveryTimeoutMs ?? 30_000;

  async function deliverDue(): Promise<number> {
    await outbox.expire(clock.now());
    await outbox.purge(new Date(clock.now().getTime() - retentionMs));
    if (!provider) return 0;
    let delivered = 0;
    for (const message of await outbox.claimDue(clock.now(), batchSize)) {
      let text: OutgoingMessage;
      try {
        text = sealer.open(message.keyId, message.sealed);
      } catch (error) {
        // Sealed with a key no longer in the keyring, or damaged: no retry can deliver it.
        logger.error("undeliverable message discarded", { messageId: message.id, error: (error as Error).message });
        await outbox.discard(message.id);
        onDelivery("discarded");
        continue;
      }
      try {
        await deliverWithin(provider, text, message.id, deliveryTimeoutMs);
        await outbox.markDelivered(message.id, clock.now());
        onDelivery("delivered");
        delivered++;
      } catch (error) {
        if (error instanceof PermanentDeliveryFailure) {
          logger.warn("delivery refused for good; message discarded", { messageId: message.id, channel: message.channel, error: error.message });
          await outbox.discard(message.id);
          onDelivery("discarded");
          continue;
        }
        logger.warn("delivery failed; will retry", { messageId: message.id, channel: message.channel, error: (error as Error).message });
        await outbox.markFailed(message.id, clock.now(), (error as Error).message);
        onDelivery("failed");
      }
    }
    return delivered;
  }

  // One run at a time: a tick that finds the previous run still going is skipped, so a slow provider cannot pile
  // up runs; runOnce (tests, shutdown) waits for the current run and then makes its own.
  let running: Promise<number> | undefined;
  const runOnce = async (): Promise<number> => {
    while (running) await running.catch(() => undefined);
    running = deliverDue().finally(() => {
      running = undefined;
    });
    return running;
  };
  const timer = setInterval(() => {
    if (running) return;
    runOnce().catch((error: unknown) => {
      // An unavailable storage has logged its episode already; a line per tick would flood the log.
      if (!(error instanceof DomainError && error.kind === "Unavailable")) logger.error("outbox worker failed", { error });
    });
  }, options.pollIntervalMs ?? 250);
  timer.unref();
  let stopped = false;

  return {
    runOnce,
    isRunning: () => !stopped,
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running?.catch(() => undefined);
    },
  };
}

async function deliverWithin(provider: DeliveryProvider, message: OutgoingMessage, messageId: string, timeoutMs: number): Promise<void> {
  const signal = AbortSignal.timeout(timeoutMs);
  const timedOut = new Promise<never>((_, reject) => {
    signal.addEventListener("abort", () => reject(new Error(`no answer from the provider within ${timeoutMs} ms`)), {
      once: true,
    });
  });
  await Promise.race([provider.deliver(message, signal, messageId), timedOut]);
}
