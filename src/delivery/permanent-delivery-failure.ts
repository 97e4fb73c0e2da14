/**
 * Thrown by a provider whose recipient refused a message for good (an invalid number, a receiver answering 400):
 * retrying cannot deliver it, so the worker makes it dead at once instead of backing off (an operator may fix the
 * cause, a misconfigured receiver say, and retry it).
 */
export class PermanentDeliveryFailure extends Error {
  override name = "PermanentDeliveryFailure";
}
