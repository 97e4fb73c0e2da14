// Settings that are fine on a developer's machine but unsafe where real people's numbers are verified. Production
// mode refuses them; development mode starts and warns. Each message names the setting, as the user wrote it.
import type { SettingName, Values } from "./config.js";

const minimumLockoutMs = 60_000;
const maximumCodeTtlMs = 24 * 3_600_000;
const minimumBodyBytes = 1024;

const timeouts = [
  ["--first-bytes-timeout / VERIFYD_FIRST_BYTES_TIMEOUT", "firstBytesTimeout"],
  ["--headers-timeout / VERIFYD_HEADERS_TIMEOUT", "headersTimeout"],
  ["--request-timeout / VERIFYD_REQUEST_TIMEOUT", "requestTimeout"],
  ["--idle-timeout / VERIFYD_IDLE_TIMEOUT", "idleTimeout"],
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
  if (fromFlags.has("keys")) {
    found.push("--keys: key material on the command line is visible to every user of the machine (ps); use VERIFYD_KEYS");
  }
  if (fromFlags.has("webhookSecret")) {
    found.push("--webhook-secret: a secret on the command line is visible to every user of the machine (ps); use VERIFYD_WEBHOOK_SECRET");
  }
  for (const [name, url] of webhookUrls(values)) {
    if (url.protocol === "http:" && !isLoopback(url.hostname)) {
      found.push(`${name}: http:// to ${url.hostname} carries codes in cleartext; use https://`);
    }
  }
  if (values.codeTtl < minimumLockoutMs || values.codeTtl > maximumCodeTtlMs) {
    found.push("--code-ttl / VERIFYD_CODE_TTL: a code must live from 1m to 24h");
  }
  for (const [name, key] of timeouts) {
    if (values[key] === 0) found.push(`${name}: 0 means no timeout at all`);
  }
  if (values.maxBodyBytes < minimumBodyBytes) {
    found.push("--max-body-bytes / VERIFYD_MAX_BODY_BYTES: under 1KiB refuses ordinary requests (and 0 means no limit to some clients)");
  }
  if (/[\p{C}\p{Z}\s]/u.test(values.codeAlphabet)) {
    found.push("--code-alphabet / VERIFYD_CODE_ALPHABET: has control, format or space characters, which people cannot type");
  }
  if (values.database === ":memory:" || values.database === "") {
    found.push("--database / DATABASE_URL: :memory: loses every user and code when the process stops");
  }
  return found;
}

function webhookUrls(values: Values): [string, URL][] {
  const urls: [string, URL | undefined][] = [
    ["--sms-webhook-url / VERIFYD_SMS_WEBHOOK_URL", values.smsWebhookUrl],
    ["--email-webhook-url / VERIFYD_EMAIL_WEBHOOK_URL", values.emailWebhookUrl],
  ];
  return urls.filter((entry): entry is [string, URL] => entry[1] !== undefined);
}

function isLoopback(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, "").toLowerCase();
  return bare === "localhost" || bare === "::1" || /^127(\.\d{1,3}){3}$/.test(bare);
}
