// Delivers SMS through Twilio's Messages API: a form-encoded POST per message, authenticated with the account SID
// and auth token (HTTP Basic), carrying the outbox message id as Twilio's idempotency token, so that a retry after a
// lost answer is recognised by Twilio instead of sending a second SMS. A 2xx means Twilio accepted the message;
// twilio-answer.ts decides what a refusal means.
import type { OutgoingMessage } from "../../domain/outgoing-message.js";
import type { DeliveryProvider } from "../delivery-provider.js";
import { boundedText } from "../bounded-text.js";
import { fetchFailureReason } from "../fetch-failure.js";
import { twilioFailure } from "./twilio-answer.js";
import type { TwilioSettings } from "./twilio-settings.js";

export function createTwilioProvider(settings: TwilioSettings): DeliveryProvider {
  const base = settings.baseUrl.href.endsWith("/") ? settings.baseUrl.href : `${settings.baseUrl.href}/`;
  const endpoint = new URL(`2010-04-01/Accounts/${settings.accountSid}/Messages.json`, base);
  const authorization = `Basic ${Buffer.from(`${settings.accountSid}:${settings.authToken}`).toString("base64")}`;
  const sender: Record<string, string> =
    "from" in settings.sender ? { From: settings.sender.from } : { MessagingServiceSid: settings.sender.messagingServiceSid };
  return {
    async deliver(message: OutgoingMessage, signal: AbortSignal, messageId: string) {
      let response: Response;
      try {
        response = await fetch(endpoint, {
          method: "POST",
          headers: {
            authorization,
            "content-type": "application/x-www-form-urlencoded",
            "user-agent": "verifyd",
            "i-twilio-idempotency-token": messageId,
          },
          body: new URLSearchParams({ To: message.destination, ...sender, Body: message.text }),
          redirect: "manual",
          signal,
        });
      } catch (error) {
        throw new Error(`Twilio (${endpoint.host}) not reached: ${fetchFailureReason(error)}`);
      }
      if (response.status >= 200 && response.status < 300) {
        // The created message's description is not needed; reading none frees the connection for the next one.
        await response.body?.cancel().catch(() => undefined);
        return;
      }
      // Twilio's error bodies are a few hundred bytes.
      const body = await boundedText(response, 16 * 1024);
      throw twilioFailure(response.status, body, response.headers.get("retry-after"));
    },
  };
}
