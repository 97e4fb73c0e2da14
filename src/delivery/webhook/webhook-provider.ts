// Delivers by a signed JSON POST to the operator's receiver, which sends the SMS or email itself. Its answer decides:
// 2xx delivered; 408, 429, 5xx, a timeout or a failed connection are retried by the worker (same webhook-id); any
// other answer, redirects included (never followed: the signature is for this URL), refuses the message for good.
import type { OutgoingMessage } from "../../domain/outgoing-message.js";
import type { DeliveryProvider } from "../delivery-provider.js";
import { fetchFailureReason } from "../fetch-failure.js";
import { retryableFailure } from "../deferred-delivery-failure.js";
import { PermanentDeliveryFailure } from "../permanent-delivery-failure.js";
import { webhookPayload } from "./webhook-payload.js";
import { signWebhook } from "./webhook-signature.js";

export interface WebhookProviderOptions {
  url: URL;
  /** The key bytes of the `whsec_` secret. */
  key: Uint8Array;
  /** The wall clock: receivers compare webhook-timestamp with theirs and refuse one more than 5 minutes off. */
  now?: () => Date;
}

export function createWebhookProvider(options: WebhookProviderOptions): DeliveryProvider {
  const { url, key } = options;
  const now = options.now ?? (() => new Date());
  // Only the host: a path or query may carry the receiver's own token.
  const receiver = `webhook at ${url.host}`;
  return {
    async deliver(message: OutgoingMessage, signal: AbortSignal, messageId: string) {
      const at = now();
      const timestamp = Math.floor(at.getTime() / 1000);
      const body = JSON.stringify(webhookPayload(message, messageId, at));
      let response: Response;
      try {
        response = await fetch(url, {
          method: "POST",
          headers: {
            "content-type": "application/json",
            "user-agent": "verifyd",
            "webhook-id": messageId,
            "webhook-timestamp": String(timestamp),
            "webhook-signature": signWebhook(key, messageId, timestamp, body),
          },
          body,
          redirect: "manual",
          signal,
        });
      } catch (error) {
        throw new Error(`${receiver} not reached: ${fetchFailureReason(error)}`);
      }
      // The answer's body is not needed; reading none frees the connection for the next message.
      await response.body?.cancel().catch(() => undefined);
      if (response.status >= 200 && response.status < 300) return;
      const answered = `${receiver} answered ${response.status}`;
      if (response.status === 408 || response.status === 429 || response.status >= 500) {
        throw retryableFailure(answered, response.headers.get("retry-after"));
      }
      throw new PermanentDeliveryFailure(response.status < 400 ? `${answered}; redirects are not followed` : answered);
    },
  };
}
