// The delivery settings taken together: each provider has what it needs, and a channel has at most one provider
// (two would leave it to chance which one sends). Each message names the settings, as the user wrote them.
import type { Values } from "./config.js";
import type { Channel } from "./domain/errors.js";

const twilioSettings = "TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, TWILIO_FROM or TWILIO_MESSAGING_SERVICE_SID";

export function deliveryProblems(values: Values): string[] {
  const problems: string[] = [];
  const twilioGiven = [values.twilioAccountSid, values.twilioAuthToken, values.twilioFrom, values.twilioMessagingServiceSid].some(
    (value) => value !== undefined,
  );
  if (twilioGiven) {
    if (values.twilioAccountSid === undefined || values.twilioAuthToken === undefined) {
      problems.push("Twilio needs --twilio-account-sid / TWILIO_ACCOUNT_SID and --twilio-auth-token / TWILIO_AUTH_TOKEN together");
    }
    const senders = "--twilio-from / TWILIO_FROM or --twilio-messaging-service-sid / TWILIO_MESSAGING_SERVICE_SID";
    if (values.twilioFrom === undefined && values.twilioMessagingServiceSid === undefined) {
      problems.push(`Twilio needs a sender: ${senders}`);
    } else if (values.twilioFrom !== undefined && values.twilioMessagingServiceSid !== undefined) {
      problems.push(`Twilio sends from one sender; give ${senders}, not both`);
    }
    if (values.smsWebhookUrl !== undefined) {
      problems.push(`SMS has two providers, Twilio (${twilioSettings}) and --sms-webhook-url / VERIFYD_SMS_WEBHOOK_URL; keep one`);
    }
  }
  if (values.smtpUrl !== undefined) {
    if (values.emailFrom === undefined) problems.push("--smtp-url / VERIFYD_SMTP_URL needs --email-from / VERIFYD_EMAIL_FROM, the sender of the emails");
    if (values.emailWebhookUrl !== undefined) {
      problems.push("email has two providers, --smtp-url / VERIFYD_SMTP_URL and --email-webhook-url / VERIFYD_EMAIL_WEBHOOK_URL; keep one");
    }
  } else {
    const smtpOnly: [string, boolean][] = [
      ["--email-from / VERIFYD_EMAIL_FROM", values.emailFrom !== undefined],
      ["--smtp-require-starttls / VERIFYD_SMTP_REQUIRE_STARTTLS", values.smtpRequireStarttls],
      ["--smtp-ca-file / VERIFYD_SMTP_CA_FILE", values.smtpCaFile !== undefined],
    ];
    for (const [name, given] of smtpOnly) if (given) problems.push(`${name} is set but no SMTP server is (--smtp-url / VERIFYD_SMTP_URL)`);
  }
  return problems;
}

/** The channels whose messages a provider delivers (the development console sink aside). */
export function providedChannels(values: Values): Channel[] {
  const provided: Channel[] = [];
  if (values.twilioAccountSid !== undefined || values.smsWebhookUrl !== undefined) provided.push("phone");
  if (values.smtpUrl !== undefined || values.emailWebhookUrl !== undefined) provided.push("email");
  return provided;
}

/** The settings that give a channel a provider, for messages telling the operator what is missing. */
export const providerSettings: Record<Channel, string> = {
  phone: `Twilio (${twilioSettings}) or VERIFYD_SMS_WEBHOOK_URL`,
  email: "VERIFYD_SMTP_URL or VERIFYD_EMAIL_WEBHOOK_URL",
};
