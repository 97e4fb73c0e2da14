/**
 * Thrown by a provider whose recipient refused a message for good (an invalid number, a receiver answering 400):
 * retrying cannot deliver it, so the worker wipes it at once instead of backing off until the code expires.
 */
export class PermanentDeliveryFailure extends Error {
  override name = "PermanentDeliveryFailure";
}
