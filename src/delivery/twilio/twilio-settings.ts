// Twilio's account, credentials and sender, checked at start: a typo is then a configuration error naming the
// setting, not a refusal from Twilio at the first message.

export interface TwilioSettings {
  accountSid: string;
  authToken: string;
  /** Who the SMS comes from: a number or sender id of the account, or a Messaging Service that picks one. */
  sender: { from: string } | { messagingServiceSid: string };
  /** https://api.twilio.com, or a stand-in (a test's recording server, a proxy). */
  baseUrl: URL;
}

export const parseAccountSid = sid("AC", "Account SID");
export const parseMessagingServiceSid = sid("MG", "Messaging Service SID");

/** The account's auth token (32 hexadecimal characters); never repeated in a refusal. */
export function parseAuthToken(raw: string): string {
  const token = raw.trim();
  if (!/^[0-9a-f]{32}$/i.test(token)) throw new Error("must be the account's auth token: 32 hexadecimal characters");
  return token;
}

/** An E.164 number, a short code, or an alphanumeric sender id (up to 11 characters, at least one letter). */
export function parseSender(raw: string): string {
  const sender = raw.trim();
  const e164 = /^\+[1-9]\d{6,14}$/.test(sender);
  const shortCode = /^\d{3,8}$/.test(sender);
  const alphanumeric = /^[A-Za-z0-9 +\-_&]{1,11}$/.test(sender) && /[A-Za-z]/.test(sender);
  if (!e164 && !shortCode && !alphanumeric) {
    throw new Error("must be a number of the account in E.164 (+15005550006), a short code, or an alphanumeric sender id of up to 11 characters");
  }
  return sender;
}

function sid(prefix: string, name: string): (raw: string) => string {
  return (raw) => {
    const value = raw.trim();
    if (!new RegExp(`^${prefix}[0-9a-f]{32}$`, "i").test(value)) throw new Error(`must be a Twilio ${name}: ${prefix} and 32 hexadecimal characters`);
    return value;
  };
}
