// What Twilio's refusal of a message means for the outbox. 408, 429, 5xx and Twilio's own "slow down" codes are
// retried with the same idempotency token; every other refusal is final, since Twilio would refuse the same request
// again: 401 (the credentials), a number that cannot get SMS (the codes below, named so that the log tells the
// operator the person needs another number), or anything else wrong with the request (a sender not on the account).
// Twilio's error body: {"code": 21211, "message": "…", "more_info": "https://www.twilio.com/docs/errors/21211", "status": 400}.
import { retryableFailure } from "../deferred-delivery-failure.js";
import { PermanentDeliveryFailure } from "../permanent-delivery-failure.js";

/** Refusals that pass with time: too many requests, the sender's queue is full. */
const passingCodes = new Set([20429, 21611]);

/** This number cannot receive SMS from this account. */
const unreachableNumberCodes = new Set([
  21211, // invalid 'To' number
  21214, // 'To' number cannot be reached
  21217, // does not appear to be a valid phone number
  21408, // the account may not send SMS to the number's region
  21610, // the person unsubscribed (answered STOP)
  21612, // 'To' cannot be reached from this sender
  21614, // not a mobile number
  21635, // a landline
]);

interface TwilioError {
  code?: number;
  message?: string;
  more_info?: string;
}

/**
 * The error to throw for a non-2xx answer: a PermanentDeliveryFailure when no retry can help. It carries Twilio's
 * code and message (which may quote the number; the logger masks it), never the request's credentials. A retryable
 * answer's Retry-After defers the next attempt.
 */
export function twilioFailure(status: number, body: string, retryAfter: string | null = null): Error {
  const error = parseTwilioError(body);
  const said = error.code === undefined ? "" : ` (${describe(error)})`;
  if (status === 408 || status === 429 || status >= 500 || (error.code !== undefined && passingCodes.has(error.code))) {
    return retryableFailure(`Twilio answered ${status}${said}`, retryAfter);
  }
  if (status === 401) {
    return new PermanentDeliveryFailure(`Twilio refused the credentials${said}; check TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN`);
  }
  if (error.code !== undefined && unreachableNumberCodes.has(error.code)) {
    return new PermanentDeliveryFailure(`Twilio refused the number${said}`);
  }
  return new PermanentDeliveryFailure(`Twilio refused the message with ${status}${said}`);
}

function describe(error: TwilioError): string {
  return [`${error.code}: ${error.message ?? "no message"}`, error.more_info].filter(Boolean).join("; ");
}

/** The fields of Twilio's error body, or none when the body is something else (a proxy's HTML page). */
function parseTwilioError(body: string): TwilioError {
  try {
    const parsed = JSON.parse(body) as Record<string, unknown>;
    return {
      ...(typeof parsed.code === "number" ? { code: parsed.code } : {}),
      ...(typeof parsed.message === "string" ? { message: parsed.message } : {}),
      ...(typeof parsed.more_info === "string" ? { more_info: parsed.more_info } : {}),
    };
  } catch {
    return {};
  }
}
