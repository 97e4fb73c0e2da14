// A provider's "not now, try again later" (a retryable answer with Retry-After): the next attempt waits at least that
// long instead of only the worker's own back-off, which starts at a second, so that a rate limit of a minute does not
// use up every attempt within it and leave the message dead.

/** The longest wait taken from a provider: beyond it the code would have expired anyway. */
const longestDeferralMs = 3_600_000;

export class DeferredDeliveryFailure extends Error {
  override name = "DeferredDeliveryFailure";

  constructor(
    message: string,
    /** The answer's Retry-After, as sent: seconds, or an HTTP date. */
    readonly retryAfter: string,
  ) {
    super(message);
  }

  /** The wait it asks for from `now` (RFC 9110 §10.2.3), at most an hour; 0 when it cannot be read. */
  retryAfterMs(now: Date): number {
    const text = this.retryAfter.trim();
    const ms = /^\d+$/.test(text) ? Number(text) * 1000 : Date.parse(text) - now.getTime();
    return Number.isFinite(ms) ? Math.min(Math.max(ms, 0), longestDeferralMs) : 0;
  }
}

/** The error for a retryable answer: deferred by the provider's Retry-After when it gave one. */
export function retryableFailure(message: string, retryAfter: string | null): Error {
  return retryAfter === null ? new Error(message) : new DeferredDeliveryFailure(`${message} (Retry-After: ${retryAfter})`, retryAfter);
}
