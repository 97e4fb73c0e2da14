// Settings that are fine on a developer's machine but unsafe where real people's numbers are verified. Production
// mode refuses them; development mode starts and warns. Each message names the setting, as the user wrote it.
import { providedChannels, providerSettings } from "./config-delivery.js";
import type { SettingName, Values } from "./config.js";

const minimumLockoutMs = 60_000;
const maximumCodeTtlMs = 24 * 3_600_000;

const timeouts = [
  ["--first-bytes-timeout / VERIFYD_FIRST_BYTES_TIMEOUT", "firstBytesTimeout"],
  ["--headers-timeout / VERIFYD_HEADERS_TIMEOUT", "headersTimeout"],
  ["--request-timeout / VERIFYD_REQUEST_TIMEOUT", "requestTimeout"],
  ["--idle-timeout / VERIFYD_IDLE_TIMEOUT", "idleTimeout"],
  ["--database-connect-timeout / VERIFYD_DATABASE_CONNECT_TIMEOUT", "databaseConnectTimeout"],
  ["--database-statement-timeout / VERIFYD_DATABASE_STATEMENT_TIMEOUT", "databaseStatementTimeout"],
] as const;

/** What in these values only development may have, one line each; empty when production may start with them. */
export function developmentOnly(values: Values, fromFlags: ReadonlySet<SettingName>): string[] {
  const found: string[] = [];
  const servesOthers = !isLoopback(values.host);
  if (servesOthers && !values.tlsCert && !values.tlsAtProxy) {
    found.push(
      `--host / HOST: ${values.host} serves other machines in cleartext; give --tls-cert and --tls-key, or --tls-at-proxy when TLS ends at a proxy in front`,
    );
  }
  if (servesOthers && !values.allowedHosts.includes("*") && values.allowedHosts.every(isLoopback)) {
    found.push(
      `--allowed-hosts / VERIFYD_ALLOWED_HOSTS: lists only loopback names while --host ${values.host} serves other machines; list the names clients use, or * to turn the check off`,
    );
  }
  if (values.corsOrigins.includes("*")) {
    found.push("--cors-origins / VERIFYD_CORS_ORIGINS: * lets every web page on the internet call this server");
  }
  if (values.failureLockout < minimumLockoutMs) {
    found.push("--failure-lockout / VERIFYD_FAILURE_LOCKOUT: under 1m turns the ceiling on wrong codes into a mere rate");
  }
  if (fromFlags.has("database") && URL.canParse(values.database) && new URL(values.database).password !== "") {
    found.push("--database: a password on the command line is visible to every user of the machine (ps); use DATABASE_URL");
  }
  if (fromFlags.has("keys")) {
    found.push("--keys: key material on the command line is visible to every user of the machine (ps); use VERIFYD_KEYS");
  }
  if (fromFlags.has("webhookSecret")) {
    found.push("--webhook-secret: a secret on the command line is visible to every user of the machine (ps); use VERIFYD_WEBHOOK_SECRET");
  }
  if (fromFlags.has("twilioAuthToken")) {
    found.push("--twilio-auth-token: a secret on the command line is visible to every user of the machine (ps); use TWILIO_AUTH_TOKEN");
  }
  if (fromFlags.has("smtpUrl") && values.smtpUrl?.auth?.pass) {
    found.push("--smtp-url: a password on the command line is visible to every user of the machine (ps); use VERIFYD_SMTP_URL");
  }
  for (const [name, url] of httpUrls(values)) {
    if (url.protocol === "http:" && !isLoopback(url.hostname)) {
      found.push(`${name}: http:// to ${url.hostname} carries codes in cleartext; use https://`);
    }
  }
  const smtp = values.smtpUrl;
  if (smtp && !smtp.implicitTls && !values.smtpRequireStarttls && !isLoopback(smtp.host)) {
    found.push(
      `--smtp-url / VERIFYD_SMTP_URL: smtp:// to ${smtp.host} sends codes (and the password) in cleartext unless the server offers STARTTLS; use smtps://, or --smtp-require-starttls`,
    );
  }
  if (values.codeTtl < minimumLockoutMs || values.codeTtl > maximumCodeTtlMs) {
    found.push("--code-ttl / VERIFYD_CODE_TTL: a code must live from 1m to 24h");
  }
  for (const [name, key] of timeouts) {
    if (values[key] === 0) found.push(`${name}: 0 means no timeout at all`);
  }
  if (/[\p{C}\p{Z}\s]/u.test(values.codeAlphabet)) {
    found.push("--code-alphabet / VERIFYD_CODE_ALPHABET: has control, format or space characters, which people cannot type");
  }
  if (values.database === ":memory:" || values.database === "") {
    found.push("--database / DATABASE_URL: :memory: loses every user and code when the process stops");
  }
  return found;
}

/**
 * What production needs that development goes without: keys from a secret store, and a provider for every channel
 * whose codes are sent.
 */
export function productionRequirements(values: Values): string[] {
  const missing: string[] = [];
  if (values.keys === undefined) {
    missing.push(
      "VERIFYD_KEYS: production takes its keys from the environment (a secret store); the keyring file beside the database is for development. Make a key with: echo 1:$(openssl rand -base64 32)",
    );
  }
  const provided = providedChannels(values);
  for (const channel of values.sendChannels.filter((sent) => !provided.includes(sent))) {
    missing.push(
      `--send-channels / VERIFYD_SEND_CHANNELS: ${channel} codes are sent, but no provider delivers them; configure ${providerSettings[channel]}, or leave ${channel} out of --send-channels (return_code keeps working)`,
    );
  }
  return missing;
}

/** The http(s) URLs codes are posted to, by the setting that gives each. */
function httpUrls(values: Values): [string, URL][] {
  const urls: [string, URL | undefined][] = [
    ["--sms-webhook-url / VERIFYD_SMS_WEBHOOK_URL", values.smsWebhookUrl],
    ["--email-webhook-url / VERIFYD_EMAIL_WEBHOOK_URL", values.emailWebhookUrl],
    // Only when Twilio delivers: the default is https anyway.
    ["--twilio-base-url / VERIFYD_TWILIO_BASE_URL", values.twilioAccountSid === undefined ? undefined : values.twilioBaseUrl],
  ];
  return urls.filter((entry): entry is [string, URL] => entry[1] !== undefined);
}

function isLoopback(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, "").toLowerCase();
  return bare === "localhost" || bare === "::1" || /^127(\.\d{1,3}){3}$/.test(bare);
}
