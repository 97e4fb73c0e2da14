// Delivers sealed messages from the outbox at least once: a message is claimed with a lease, opened, handed to the
// provider and only then marked delivered (which wipes it), with its `code.sent` event in the same transaction. A
// crash between the two redelivers after the lease, under the same message id, so the provider can tell it is a
// retry. A failed message is retried after a back-off until its attempts run out or the provider refuses it for
// good; it is then dead (kept sealed for an operator's retry) and its `code.send.failed` event is written with it.
// Without a provider the worker still wipes messages whose code expired, so no code waits at rest for nothing, and
// deletes delivered and expired rows after a retention period, so a resend flood does not grow the table for ever.
import { setMaxListeners } from "node:events";
import { setTimeout as sleep } from "node:timers/promises";
import { codeSendFailedEvent, codeSentEvent } from "../domain/delivery-outcome-events.js";
import { type Channel, DomainError } from "../domain/errors.js";
import { type MessageSealer, type OutgoingMessage, withTimeLeft } from "../domain/outgoing-message.js";
import type { ClaimedMessage, Clock, OutboxStore } from "../domain/ports.js";
import { withControlsShown } from "../domain/unicode-notation.js";
import type { Logger } from "../logger.js";
import { redactText } from "../redaction.js";
import type { DeliveryProvider } from "./delivery-provider.js";
import { DeferredDeliveryFailure } from "./deferred-delivery-failure.js";
import { PermanentDeliveryFailure } from "./permanent-delivery-failure.js";

/**
 * What became of one claimed message: sent, failed (retried after a back-off), dead (given up: attempts used up or
 * refused for good), or discarded (no key opens it).
 */
export type DeliveryOutcome = "delivered" | "failed" | "dead" | "discarded";

export interface OutboxWorkerOptions {
  outbox: OutboxStore;
  sealer: MessageSealer;
  provider?: DeliveryProvider;
  /** Names each channel's provider in the log lines and the metrics, e.g. "twilio". */
  providerNames?: Partial<Record<Channel, string>>;
  clock: Clock;
  logger: Logger;
  /** Delivered and expired messages are deleted this long after their code expired. */
  retentionMs: number;
  pollIntervalMs?: number;
  /** Messages claimed at once, and delivered side by side. */
  batchSize?: number;
  /** A delivery that takes longer fails (and is retried after a back-off). */
  deliveryTimeoutMs?: number;
  /**
   * How long a claim keeps other workers off a message (the outbox store's lease, from the time given to the claim): a
   * claim that comes back with less of it left than a delivery may take is left to the worker that claims it next.
   */
  leaseMs?: number;
  /** Attempts at one message, the first included, before it is dead. */
  maxAttempts?: number;
  /** Told each claimed message's outcome, its provider's name and its channel, for the metrics. */
  onDelivery?: (outcome: DeliveryOutcome, provider: string, channel: Channel) => void;
  /** Told how long each provider took to answer (or to time out), for the metrics. */
  onProviderAnswer?: (channel: Channel, provider: string, seconds: number) => void;
}

export interface OutboxWorker {
  /** Delivers what is due now, wipes what expired and deletes what is past retention; returns the number delivered. */
  runOnce(): Promise<number>;
  /** From the start until stop(): failed runs do not end it, the next tick runs again. */
  isRunning(): boolean;
  /**
   * Claims nothing more, and waits up to `waitMs` for the deliveries under way to be answered and recorded. Those
   * still waiting then are cut short and recorded as nothing: their lease runs out and another worker sends them again
   * under the same id. Nothing touches the outbox once this has resolved.
   */
  stop(waitMs?: number): Promise<void>;
}

export function startOutboxWorker(options: OutboxWorkerOptions): OutboxWorker {
  const { outbox, sealer, provider, clock, logger, retentionMs } = options;
  const onDelivery = options.onDelivery ?? (() => undefined);
  const onProviderAnswer = options.onProviderAnswer ?? (() => undefined);
  const batchSize = options.batchSize ?? 50;
  const deliveryTimeoutMs = options.deliveryTimeoutMs ?? 30_000;
  const leaseMs = options.leaseMs ?? deliveryTimeoutMs + 5_000;
  const maxAttempts = options.maxAttempts ?? 8;
  const providerName = (channel: Channel) => options.providerNames?.[channel] ?? "custom";
  const shutdown = new AbortController();
  const failures = failureEpisodes(logger, clock);

  /** undefined: cut short by stop(), nothing recorded. */
  async function deliverOne(provider: DeliveryProvider, message: ClaimedMessage): Promise<DeliveryOutcome | undefined> {
    const fields = { messageId: message.id, userId: message.userId, channel: message.channel, provider: providerName(message.channel), attempt: message.attempts };
    let text: OutgoingMessage;
    try {
      text = withTimeLeft(sealer.open(message.keyId, message.sealed), message.expiresAt, clock.now());
    } catch (error) {
      // Damaged (claims take only messages of this keyring's keys): no retry can deliver it.
      logger.error("undeliverable message discarded", { ...fields, outcome: "discarded", error: (error as Error).message });
      await outbox.discard(message.id);
      return "discarded";
    }
    // Only a code's fate is an event of the user's: a notice to a replaced contact is not.
    const isCode = text.purpose === "code";
    const handedOver = performance.now();
    const answered = () => onProviderAnswer(message.channel, fields.provider, (performance.now() - handedOver) / 1000);
    try {
      await deliverWithin(provider, text, message.id, { timeoutMs: deliveryTimeoutMs, stopping: shutdown.signal, who: fields.provider });
    } catch (error) {
      if (shutdown.signal.aborted) {
        logger.warn("shutdown: a delivery under way was cut short; it is sent again after its lease, under the same id", fields);
        return undefined;
      }
      answered();
      // Kept in the outbox and the failure event, where the log's redaction does not reach: a vendor's refusal may
      // quote the number, and an SMTP server's or a proxy's may carry escape sequences for the operator's terminal.
      const reason = withControlsShown(redactText((error as Error).message));
      const refused = error instanceof PermanentDeliveryFailure;
      if (!refused && message.attempts < maxAttempts) {
        const now = clock.now();
        const retryAfterMs = error instanceof DeferredDeliveryFailure ? error.retryAfterMs(now) : 0;
        if (await outbox.markFailed(message.id, now, reason, retryAfterMs)) {
          failures.failed(message.channel, { ...fields, outcome: "failed", error: reason });
        } else {
          logger.info("delivery failed; not retried: the message was settled or erased with its user meanwhile", {
            ...fields,
            outcome: "failed",
            error: reason,
            ...settled(false),
          });
        }
        return "failed";
      }
      const event = isCode ? codeSendFailedEvent(message.channel, message.id, reason) : undefined;
      const recorded = await outbox.markDead(message.id, clock.now(), reason, event);
      logger.warn(refused ? "delivery refused for good; message dead" : "delivery attempts used up; message dead", {
        ...fields,
        outcome: "dead",
        error: reason,
        ...settled(recorded),
      });
      return "dead";
    }
    answered();
    let recorded: boolean;
    try {
      recorded = await outbox.markDelivered(message.id, clock.now(), isCode ? codeSentEvent(message.channel, message.id) : undefined);
    } catch (error) {
      // The lane's failure line says that the storage failed, not which message went out unrecorded (a trial's
      // receiver saw one sent again 35 s later with no line about it).
      logger.warn("message delivered, but its delivery could not be recorded; it is sent again after its lease, under the same id", {
        ...fields,
        outcome: "unrecorded",
        error: (error as Error).message,
      });
      throw error;
    }
    failures.delivered(message.channel, fields);
    logger.info("message delivered", { ...fields, outcome: "delivered", ...settled(recorded) });
    return "delivered";
  }

  /** Wipes what expired and deletes what is past retention. */
  async function keepTidy(): Promise<number> {
    await outbox.expire(clock.now());
    await outbox.purge(new Date(clock.now().getTime() - retentionMs));
    return 0;
  }

  /** Claims up to `limit` due messages and delivers them side by side; `claimed` hears how many it took. */
  async function deliverDue(channel: Channel, limit: number, claimed: (count: number) => void): Promise<number> {
    if (!provider) return 0;
    const claimedAt = clock.now();
    const messages = await outbox.claimDue(claimedAt, limit, sealer.keyIds, channel);
    claimed(messages.length);
    // A claim that came back late (this process paused, its database's answer held up) may have lapsed already, and
    // another worker may be sending the same messages: they are left alone, to be claimed again after the lease.
    if (messages.length > 0 && clock.now().getTime() > claimedAt.getTime() + leaseMs - deliveryTimeoutMs) {
      logger.warn("claimed messages came back too late to be delivered within their lease; left to the next claim", {
        channel,
        count: messages.length,
        claimMs: clock.now().getTime() - claimedAt.getTime(),
      });
      return 0;
    }
    // Side by side, so that they all end within one delivery timeout, inside the lease that covers them; a failure to
    // record one outcome does not cut the others short.
    const results = await Promise.allSettled(messages.map((message) => deliverOne(provider, message)));
    results.forEach((result) => {
      if (result.status === "fulfilled" && result.value) onDelivery(result.value, providerName(channel), channel);
    });
    const failure = results.find((result) => result.status === "rejected");
    if (failure) throw failure.reason;
    return results.filter((result) => result.status === "fulfilled" && result.value === "delivered").length;
  }

  // Each channel in a lane of its own, so that a provider that hangs on one channel (each attempt waits out the
  // delivery timeout) holds up none of the other's messages; tidying up is a lane too. A lane has room for `capacity`
  // messages under way: each tick claims as many as there is room for, beside the deliveries still under way, so that
  // a slow answer holds up its own message only (waiting for a whole batch before claiming the next, one receiver
  // answering 5% of the requests in a few seconds held a lane to 10 messages a second, found by a soak trial). A slow
  // provider cannot pile up deliveries beyond the capacity. Tidying takes one run at a time.
  const lane = (capacity: number, work: Lane["work"]): Lane => ({ work, room: capacity, runs: new Set() });
  const tidying = lane(1, keepTidy);
  const deliveries = channels.map((channel) => lane(batchSize, (limit, claimed) => deliverDue(channel, limit, claimed)));
  const lanes = [tidying, ...deliveries];
  // Each delivery under way listens for the shutdown: as many as the lanes hold.
  setMaxListeners(channels.length * batchSize + 1, shutdown.signal);
  const start = (each: Lane): Promise<number> => {
    let held = each.room;
    each.room = 0;
    const run = each
      .work(held, (count) => {
        each.room += held - count;
        held = count;
      })
      .finally(() => {
        each.room += held;
        each.runs.delete(run);
      });
    each.runs.add(run);
    return run;
  };
  /** Waits for the runs under way in `some`, then runs each of them once more; all settle before it does. */
  const runAgain = async (some: readonly Lane[]): Promise<number> => {
    for (let busy = some.filter((each) => each.runs.size > 0); busy.length > 0; busy = some.filter((each) => each.runs.size > 0)) {
      await Promise.allSettled(busy.flatMap((each) => [...each.runs]));
    }
    const results = await Promise.allSettled(some.map(start));
    const failure = results.find((result) => result.status === "rejected");
    if (failure) throw failure.reason;
    return results.reduce((sum, result) => sum + (result.status === "fulfilled" ? result.value : 0), 0);
  };
  // runOnce (tests, shutdown) tidies first, then delivers on every channel.
  const runOnce = async (): Promise<number> => {
    await runAgain([tidying]);
    return runAgain(deliveries);
  };
  // A failure that repeats is logged once, however many lanes meet it, and a line says when every failing lane works
  // again: a line per tick would flood the log. An unavailable storage has logged its episode already.
  const failingWith = new Map<Lane, string>();
  const timer = setInterval(() => {
    for (const each of lanes) {
      if (each.room === 0) continue;
      start(each).then(
        () => {
          if (failingWith.delete(each) && failingWith.size === 0) logger.info("outbox worker works again");
        },
        (error: unknown) => {
          if (error instanceof DomainError && error.kind === "Unavailable") return;
          const message = error instanceof Error ? error.message : String(error);
          if (![...failingWith.values()].includes(message)) {
            logger.error("outbox worker failed; repeats are not logged until it works again", { error });
          }
          failingWith.set(each, message);
        },
      );
    }
  }, options.pollIntervalMs ?? 250);
  timer.unref();
  let stopped = false;

  return {
    runOnce,
    isRunning: () => !stopped,
    async stop(waitMs = Infinity) {
      stopped = true;
      clearInterval(timer);
      const runs = lanes.flatMap((each) => [...each.runs].map((run) => run.catch(() => undefined)));
      if (runs.length === 0) return;
      const waited = new AbortController();
      const answered = await Promise.race([Promise.all(runs).then(() => true), sleepUnlessAborted(waitMs, waited.signal)]);
      waited.abort();
      if (answered) return;
      shutdown.abort();
      await Promise.all(runs);
    },
  };
}

const channels: readonly Channel[] = ["phone", "email"];

/**
 * A provider that fails, fails for every message until it is fixed: an outage of 100 messages with 8 attempts each
 * would be 800 warnings. So the first failed attempt on a channel is a warning that starts an episode, the next ones
 * are debug lines, and the first delivery on that channel a minute or more after its last failure ends it with one
 * line counting them: a provider that fails now and then (a few requests in a hundred) keeps one episode open instead
 * of two lines per failure (found by a soak trial). Dead messages keep a warning each: each is a person whose code did
 * not arrive.
 */
function failureEpisodes(logger: Logger, clock: Clock) {
  const episodes = new Map<Channel, { failedAttempts: number; lastFailureAt: number }>();
  return {
    failed(channel: Channel, fields: Record<string, unknown>): void {
      const episode = episodes.get(channel);
      const now = clock.now().getTime();
      if (episode) {
        episode.failedAttempts += 1;
        episode.lastFailureAt = now;
        logger.debug("delivery failed; will retry", fields);
        return;
      }
      episodes.set(channel, { failedAttempts: 1, lastFailureAt: now });
      logger.warn("delivery failed; will retry (further failures on this channel at debug, until deliveries work for a minute)", fields);
    },
    delivered(channel: Channel, fields: Record<string, unknown>): void {
      const episode = episodes.get(channel);
      if (!episode || clock.now().getTime() - episode.lastFailureAt < episodeQuietMs) return;
      episodes.delete(channel);
      logger.info("deliveries work again", { channel: fields.channel, provider: fields.provider, failedAttempts: episode.failedAttempts });
    },
  };
}

/** How long deliveries on a channel must go without a failure before its failure episode ends. */
const episodeQuietMs = 60_000;

interface Lane {
  /** Takes on up to `limit` items, tells `claimed` how many it took, and resolves with how many it completed. */
  work(limit: number, claimed: (count: number) => void): Promise<number>;
  /** How many more items the lane has room for beside its runs under way. */
  room: number;
  runs: Set<Promise<number>>;
}

/** Not recorded: another worker whose lease ran out settled the message first, or a newer code superseded it. */
function settled(recorded: boolean): { alreadySettled?: true } {
  return recorded ? {} : { alreadySettled: true };
}

/**
 * Ends at the timeout or at `stopping`, whether or not the provider heeds the signal it is given; `who` names the
 * provider in the error, which list-dead shows. The timer and `stopping` hold the controller strongly: a signal of
 * AbortSignal.timeout or AbortSignal.any is held only weakly by its timer and sources, so a garbage collection while
 * the provider hangs took it, and the delivery then waited for ever (Node 20).
 */
async function deliverWithin(
  provider: DeliveryProvider,
  message: OutgoingMessage,
  messageId: string,
  wait: { timeoutMs: number; stopping: AbortSignal; who: string },
): Promise<void> {
  const { timeoutMs, stopping } = wait;
  const ending = new AbortController();
  const timer = setTimeout(() => ending.abort(new Error(`no answer from the ${wait.who} provider within ${timeoutMs} ms`)), timeoutMs);
  const stop = () => ending.abort(new Error("cut short by the shutdown"));
  if (stopping.aborted) stop();
  else stopping.addEventListener("abort", stop, { once: true });
  const ended = new Promise<never>((_, reject) => {
    if (ending.signal.aborted) reject(ending.signal.reason);
    else ending.signal.addEventListener("abort", () => reject(ending.signal.reason), { once: true });
  });
  try {
    await Promise.race([provider.deliver(message, ending.signal, messageId), ended]);
  } finally {
    clearTimeout(timer);
    stopping.removeEventListener("abort", stop);
  }
}

/** false after `ms`, or at once when `signal` aborts; an infinite wait sets no timer. */
function sleepUnlessAborted(ms: number, signal: AbortSignal): Promise<false> {
  if (!Number.isFinite(ms)) return new Promise(() => undefined);
  return sleep(ms, false as const, { signal }).catch(() => false as const);
}
