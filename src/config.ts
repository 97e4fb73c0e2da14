// The one typed configuration, read once from flags and environment (flags win), validated with clear messages.
// Every setting is declared once in `settings`; the README's configuration table lists the same names.
import { X509Certificate, randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { createSecureContext } from "node:tls";
import { dirname, join } from "node:path";
import { parseArgs } from "node:util";
import proxyAddr from "@fastify/proxy-addr";
import { type CountryCode, isSupportedCountry } from "libphonenumber-js/max";
import { type Keyring, parseKeyList } from "./crypto/keyring.js";
import { type Limits, longestLimitWindowMs } from "./domain/limits/limits.js";
import type { LogLevel } from "./logger.js";
import type { ListenerLimits } from "./transport/listener-limits.js";
import { withBooleanValues } from "./config-boolean-flags.js";
import { codeAlphabetProblems } from "./config-code-alphabet.js";
import { deliveryProblems } from "./config-delivery.js";
import { developmentOnly, productionRequirements } from "./config-production.js";
import { isPostgresUrl, isPrivateDatabase } from "./store/database-url.js";
import type { Channel } from "./domain/errors.js";
import { type SmtpSettings, parseEmailSender, parseSmtpUrl } from "./delivery/smtp/smtp-settings.js";
import {
  type TwilioSettings,
  parseAccountSid,
  parseAuthToken,
  parseMessagingServiceSid,
  parseSender,
} from "./delivery/twilio/twilio-settings.js";
import { parseWebhookSecret } from "./delivery/webhook/webhook-secret.js";
import { parseAppName, parseLanguageTag, parseWebOtpHost } from "./delivery/templates/message-settings.js";
import type { MessageSettings } from "./domain/messages/message-catalog.js";

export type SqliteLocking = "exclusive" | "normal";

export interface Config {
  host: string;
  port: number;
  /** Path of the SQLite file, or a postgres:// URL. */
  database: string;
  /** For PostgreSQL: connections per process, and how long a connection and a statement may take. */
  postgres: { poolSize: number; connectTimeoutMs: number; statementTimeoutMs: number };
  /** PEM contents, read at start so a missing file is a configuration error. */
  tls?: { cert: string; key: string };
  /** From --keys; when absent, a keyring file next to the database is used. */
  keys?: Keyring;
  production: boolean;
  devPrintCodes: boolean;
  code: { length: number; alphabet: string; ttlMs: number; maxAttempts: number };
  failures: { maxConsecutiveFailures: number; lockoutMs: number };
  phone: { defaultRegion?: CountryCode; allowLandline: boolean };
  limits: ListenerLimits;
  /** Host names (no port) that Host and :authority may carry; ["*"] turns the check off. */
  allowedHosts: string[];
  corsOrigins: string[];
  /** Serve gRPC server reflection (v1 and v1alpha), without a token. */
  reflection: boolean;
  /** Serve GET /metrics, without a token: on the main port, or on `port` alone when set (0: any free port). */
  metrics: { enabled: boolean; port?: number };
  /** TLS ends at a proxy in front of verifyd; lets production listen beyond loopback without --tls-cert. */
  tlsAtProxy: boolean;
  /** Proxies whose X-Forwarded-For names the client (addresses, CIDR ranges, loopback, linklocal, uniquelocal). */
  trustedProxies: string[];
  /** SQLite's quick_check at start; skipped for files too large to scan at every start. */
  integrityCheck: boolean;
  /** "exclusive": the server holds the SQLite file while no other verifyd process has it open; "normal": never. */
  sqliteLocking: SqliteLocking;
  /** Delivered and expired outbox rows are deleted this long after their code expired. */
  outboxRetentionMs: number;
  /** How long a provider may take to accept a message, and the signed webhook each channel is delivered to (if any). */
  delivery: {
    timeoutMs: number;
    /** Attempts at one message before it is dead (kept for an operator's retry until its code expires). */
    attempts: number;
    webhook?: { key: Uint8Array; urls: Partial<Record<Channel, URL>> };
    /** SMS through Twilio's Messages API. */
    twilio?: TwilioSettings;
    /** Email through an SMTP server. */
    smtp?: SmtpSettings;
    /** The channels whose codes are sent (send_code); elsewhere only return_code is taken. */
    sendChannels: Channel[];
  };
  /** The instance's send and verification limits; each organization may override them. */
  verificationLimits: Limits;
  /** Whether organizations' test contacts (fixed codes, never delivered) are honoured. */
  testContacts: boolean;
  /** What goes into every message, and the directory of templates that replace or add to the shipped ones. */
  messages: MessageSettings & { templatesDir?: string };
  /** Security log entries are deleted this long after their last occurrence. */
  securityLogRetentionMs: number;
  /** Where the first start writes the bootstrap IAM_OWNER's token (owner-only). */
  adminTokenFile: string;
  tokens: {
    /** Lifetime of a token from a password login. */
    loginTtlMs: number;
    /** Lifetime of a personal access token created without an expiration date, and of the bootstrap token. */
    personalTtlMs: number;
    /** Refuse password logins that name no organization, which organizations that do not trust each other can disturb. */
    loginsNeedOrganization: boolean;
  };
  /** Password hashes and verifies (argon2id, a core each for tens of milliseconds) running at once, and waiting. */
  passwordChecks: { atOnce: number; waiting: number };
  /** On SIGTERM or SIGINT: how long to keep accepting while not ready, then how long in-flight calls may take. */
  shutdown: { delayMs: number; graceMs: number };
  logLevel: LogLevel;
  /** Development-only settings accepted outside production mode; the server logs each at start. */
  warnings: string[];
}

type Parser<T> = (raw: string) => T;

interface Setting<T> {
  flag: string;
  env: string;
  description: string;
  /** Written as a user would write it, and parsed like user input. */
  default?: string;
  parse: Parser<T>;
  /** On or off: declared with booleanSetting, so that its flag is spelt as every boolean flag is. */
  boolean?: true;
  /**
   * Set empty, refused rather than taken as not given: where the default would silently change what people get, as
   * digits for codes meant to be letters when the variable meant to give the alphabet did not expand.
   */
  refuseEmpty?: true;
}

const text: Parser<string> = (raw) => raw;

const integer =
  (min: number, max: number): Parser<number> =>
  (raw) => {
    const value = Number(raw);
    if (!/^\d+$/.test(raw.trim()) || value < min || value > max) throw new Error(`must be an integer from ${min} to ${max}`);
    return value;
  };

/** Node runs argon2 on its thread pool of 4; one core stays for the event loop where there are two or more. */
const passwordChecksAtOnce: Parser<number> = (raw) => {
  if (raw.trim() === "auto") return Math.min(4, Math.max(1, availableParallelism() - 1));
  const value = Number(raw);
  if (!/^\d+$/.test(raw.trim()) || value < 1 || value > 64) throw new Error("must be auto or an integer from 1 to 64");
  return value;
};

/** A size from 1 KiB, below which no request fits, to `max` MiB. */
const bytesUpTo =
  (maxMib: number): Parser<number> =>
  (raw) => {
    const match = /^(\d+)\s*(b|kib|mib)?$/i.exec(raw.trim());
    if (!match) throw new Error('must be a size like 65536, "64KiB" or "1MiB"');
    const unit = { b: 1, kib: 1024, mib: 1024 * 1024 }[(match[2] ?? "b").toLowerCase() as "b" | "kib" | "mib"];
    const size = Number(match[1]) * unit;
    if (size < 1024 || size > maxMib * 1024 * 1024) throw new Error(`must be from 1KiB to ${maxMib}MiB`);
    return size;
  };

const durationUnits = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

const anyDuration = (raw: string, maxMs: number, max: string): number => {
  const match = /^(\d+)\s*(ms|s|m|h|d)$/.exec(raw.trim());
  if (!match) throw new Error('must be a duration like "500ms", "30s", "10m", "1h" or "7d"');
  const ms = Number(match[1]) * durationUnits[match[2] as keyof typeof durationUnits];
  if (ms > maxMs) throw new Error(`must be at most ${max}`);
  return ms;
};

/** A time a timer waits: Node's timers hold at most 2^31 - 1 ms and take anything longer as 1 ms. */
const duration: Parser<number> = (raw) => anyDuration(raw, 2 ** 31 - 1, "24d (Node's timers hold no more)");

/** How long something lasts, counted in dates (a token, a code, a window, a retention): ten years at most. */
const lifetime: Parser<number> = (raw) => anyDuration(raw, 3650 * durationUnits.d, "3650d");

const flag: Parser<boolean> = (raw) => {
  if (["1", "true", "yes"].includes(raw.toLowerCase())) return true;
  if (["0", "false", "no", ""].includes(raw.toLowerCase())) return false;
  throw new Error("must be true or false");
};

/** A setting that is on or off; its flag takes the spellings of config-boolean-flags.ts. */
const booleanSetting = <S extends Omit<Setting<boolean>, "parse" | "boolean"> & { default: "true" | "false" }>(setting: S) => ({
  ...setting,
  parse: flag,
  boolean: true as const,
});

const list: Parser<string[]> = (raw) =>
  raw
    .split(",")
    .map((item) => item.trim())
    .filter(Boolean);

/** Each entry as @fastify/proxy-addr takes it, so that a typo fails at start instead of trusting nobody. */
const trustedProxies: Parser<string[]> = (raw) => {
  const entries = list(raw);
  for (const entry of entries) {
    try {
      proxyAddr.compile(entry);
    } catch {
      throw new Error(`${entry} is no address, CIDR range, loopback, linklocal or uniquelocal`);
    }
  }
  return entries;
};

/**
 * Browser origins as browsers send them (`https://app.example.com`, with a port only when not the scheme's default),
 * or `*`: an origin written otherwise (a trailing slash, a path, upper case) would never match one.
 */
const originList: Parser<string[]> = (raw) =>
  list(raw).map((item) => {
    if (item === "*") return item;
    const origin = URL.canParse(item) ? new URL(item).origin : "null";
    if (origin === "null" || !/^https?:/.test(origin)) {
      throw new Error(`"${item}" is not an http(s) origin; e.g. https://app.example.com, or * for any`);
    }
    if (origin !== item) throw new Error(`"${item}" would never match: browsers send it as ${origin}`);
    return item;
  });

const oneOf =
  <T extends string>(...values: T[]): Parser<T> =>
  (raw) => {
    if (!values.includes(raw as T)) throw new Error(`must be one of ${values.join(", ")}`);
    return raw as T;
  };

const pemFile: Parser<string> = (path) => {
  try {
    return readFileSync(path, "utf8");
  } catch (error) {
    throw new Error(`cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
};

// Node's TLS takes any text as trusted certificates and trusts none of it, so a wrong file would only show as every
// delivery failing its handshake: each certificate is read here instead.
const pemCertificates: Parser<string> = (path) => {
  const text = pemFile(path);
  const blocks = text.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0) throw new Error("the file holds no PEM certificate (-----BEGIN CERTIFICATE-----)");
  blocks.forEach((block, index) => {
    try {
      new X509Certificate(block);
    } catch (error) {
      throw new Error(`the file's certificate ${index + 1} cannot be read: ${(error as Error).message}`);
    }
  });
  return text;
};

const httpUrl: Parser<URL> = (raw) => {
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    throw new Error("must be an absolute http:// or https:// URL");
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new Error("must be an http:// or https:// URL");
  // fetch refuses credentials in a URL; a receiver that wants a token takes it in the path or query.
  if (url.username || url.password) throw new Error("must not carry a user name or password");
  return url;
};

const deliveryTimeout: Parser<number> = (raw) => {
  const ms = duration(raw);
  if (ms < 100 || ms > 300_000) throw new Error("must be from 100ms to 5m");
  return ms;
};

const channels: Parser<Channel[]> = (raw) => {
  if (raw.trim() === "none") return [];
  const named = list(raw);
  const unknown = named.filter((name) => name !== "phone" && name !== "email");
  if (unknown.length > 0 || named.length === 0) throw new Error('must be "phone", "email", both comma-separated, or "none"');
  return [...new Set(named as Channel[])];
};

const region: Parser<CountryCode> = (raw) => {
  if (!isSupportedCountry(raw)) throw new Error('must be a region code with a numbering plan, such as "CH" or "US"');
  return raw;
};

/** A SQLite file's path or a PostgreSQL URL; any other scheme is refused rather than taken for a file name. */
const databaseLocation: Parser<string> = (raw) => {
  if (isPostgresUrl(raw)) {
    if (!URL.canParse(raw)) throw new Error("not a valid URL; e.g. postgres://verifyd:password@db.example:5432/verifyd");
    return raw;
  }
  if (/^[a-z][a-z0-9+.-]*:/i.test(raw)) {
    throw new Error("give the SQLite file as a plain path, e.g. ./data/verifyd.sqlite, or a postgres:// URL");
  }
  return raw;
};

export const settings = {
  host: { flag: "host", env: "HOST", default: "127.0.0.1", parse: text, description: "Address to listen on." },
  port: { flag: "port", env: "PORT", default: "8080", parse: integer(0, 65535), description: "TCP port for all four protocols." },
  database: {
    flag: "database",
    env: "DATABASE_URL",
    default: "./data/verifyd.sqlite",
    parse: databaseLocation,
    description:
      "SQLite file path (its directory also holds the generated keyring), or postgres://user:password@host:port/database to share one PostgreSQL database between several processes.",
  },
  databasePoolSize: {
    flag: "database-pool-size",
    env: "VERIFYD_DATABASE_POOL_SIZE",
    default: "10",
    // Two at least: the start's bootstrap holds a lock on one connection while its writes take another.
    parse: integer(2, 1000),
    description: "PostgreSQL: connections each process keeps at most.",
  },
  databaseConnectTimeout: {
    flag: "database-connect-timeout",
    env: "VERIFYD_DATABASE_CONNECT_TIMEOUT",
    default: "5s",
    parse: duration,
    description: "PostgreSQL: how long a call waits for a connection before it fails with Unavailable (gRPC 14, HTTP 503).",
  },
  databaseStatementTimeout: {
    flag: "database-statement-timeout",
    env: "VERIFYD_DATABASE_STATEMENT_TIMEOUT",
    default: "10s",
    parse: duration,
    description:
      "PostgreSQL: the server cancels a statement running longer; the call fails with Unavailable (a ListUsers read has its own, shorter budget and fails with ResourceExhausted LIST_TOO_COSTLY). verifyd gives up 2 s later on a connection that does not answer, and the server ends a session idle inside a transaction for half of it.",
  },
  adminTokenFile: {
    flag: "admin-token-file",
    env: "ADMIN_TOKEN_FILE",
    parse: text,
    description:
      "Where the first start writes the token of the IAM_OWNER service account it creates (owner-only); never over an existing file; default: <database dir>/admin-token, ./data/admin-token with PostgreSQL, a new temporary directory with :memory:.",
  },
  loginTokenTtl: {
    flag: "login-token-ttl",
    env: "VERIFYD_LOGIN_TOKEN_TTL",
    default: "12h",
    parse: lifetime,
    description: "Lifetime of the bearer token a password login (POST /oauth2/token) hands out.",
  },
  loginsNeedOrganization: booleanSetting({
    flag: "logins-need-organization",
    env: "VERIFYD_LOGINS_NEED_ORGANIZATION",
    default: "false",
    description:
      "Refuse password logins without organization_id: else any organization's user manager can make a login name ambiguous, which then logs in nobody, and learn so that another organization has it.",
  }),
  passwordChecksAtOnce: {
    flag: "password-checks-at-once",
    env: "VERIFYD_PASSWORD_CHECKS_AT_ONCE",
    default: "auto",
    parse: passwordChecksAtOnce,
    description:
      "Password hashes and checks (logins, SetPassword, new users with a password) running at once, each taking a core for tens of milliseconds; auto: one fewer than the cores, at least 1 and at most 4 (Node's thread pool; beyond 4, raise UV_THREADPOOL_SIZE as well).",
  },
  passwordChecksWaiting: {
    flag: "password-checks-waiting",
    env: "VERIFYD_PASSWORD_CHECKS_WAITING",
    default: "32",
    parse: integer(0, 10_000),
    description:
      "Password checks waiting for a place, beyond which one is refused at once (503 temporarily_unavailable at /oauth2/token, Unavailable PASSWORD_CHECKS_BUSY elsewhere); a client address may have its share of --max-connections of the places running and waiting at /oauth2/token (at least one), beyond which it gets 429 slow_down.",
  },
  personalTokenTtl: {
    flag: "personal-token-ttl",
    env: "VERIFYD_PERSONAL_TOKEN_TTL",
    default: "365d",
    parse: lifetime,
    description: "Lifetime of a personal access token created without an expiration date, and of the bootstrap token.",
  },
  tlsCert: { flag: "tls-cert", env: "TLS_CERT", parse: pemFile, description: "PEM certificate file; enables TLS with ALPN (h2, http/1.1)." },
  tlsKey: { flag: "tls-key", env: "TLS_KEY", parse: pemFile, description: "PEM private key file for --tls-cert." },
  keys: {
    flag: "keys",
    env: "VERIFYD_KEYS",
    parse: parseKeyList,
    description: "Keyring `id:base64,...` of 32-byte keys, current first; default: generated once into <database dir>/keyring.json.",
  },
  production: booleanSetting({ flag: "production", env: "VERIFYD_PRODUCTION", default: "false", description: "Refuses development-only settings." }),
  devPrintCodes: booleanSetting({
    flag: "dev-print-codes",
    env: "VERIFYD_DEV_PRINT_CODES",
    default: "false",
    description: "Prints messages with codes to stdout instead of delivering them (development only).",
  }),
  codeLength: { flag: "code-length", env: "VERIFYD_CODE_LENGTH", default: "6", parse: integer(4, 20), description: "Characters per code." },
  codeAlphabet: {
    flag: "code-alphabet",
    env: "VERIFYD_CODE_ALPHABET",
    default: "0123456789",
    parse: text,
    refuseEmpty: true,
    description: "Characters a code is made of, e.g. ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.",
  },
  codeTtl: { flag: "code-ttl", env: "VERIFYD_CODE_TTL", default: "10m", parse: lifetime, description: "How long a code is valid." },
  codeMaxAttempts: {
    flag: "code-max-attempts",
    env: "VERIFYD_CODE_MAX_ATTEMPTS",
    default: "5",
    parse: integer(1, 10),
    description: "Wrong attempts per code before it is dead.",
  },
  maxConsecutiveFailures: {
    flag: "max-consecutive-failures",
    env: "VERIFYD_MAX_CONSECUTIVE_FAILURES",
    default: "100",
    parse: integer(1, 100),
    description: "Wrong codes in a row per contact, across resends, before verification is refused (NIST SP 800-63B: at most 100).",
  },
  failureLockout: {
    flag: "failure-lockout",
    env: "VERIFYD_FAILURE_LOCKOUT",
    default: "1h",
    parse: lifetime,
    description: "First lockout of a contact past that count, from its last wrong code; each further wrong code doubles it.",
  },
  defaultRegion: {
    flag: "default-region",
    env: "VERIFYD_DEFAULT_REGION",
    parse: region,
    description: "Region for phone numbers given without + and country code; unset: international format required.",
  },
  allowLandline: booleanSetting({
    flag: "allow-landline",
    env: "VERIFYD_ALLOW_LANDLINE",
    default: "false",
    description: "Accept fixed-line and VoIP numbers, which often cannot receive SMS.",
  }),
  maxBodyBytes: { flag: "max-body-bytes", env: "VERIFYD_MAX_BODY_BYTES", default: "64KiB", parse: bytesUpTo(64), description: "Largest request body or message." },
  maxBodiesInTransit: {
    flag: "max-bodies-in-transit",
    env: "VERIFYD_MAX_BODIES_IN_TRANSIT",
    default: "32MiB",
    parse: bytesUpTo(4096),
    description:
      "Bytes of request bodies still arriving, all calls together; a client address may hold its share of --max-connections of it (at least one whole body). A call that would go beyond is cut off.",
  },
  firstBytesTimeout: {
    flag: "first-bytes-timeout",
    env: "VERIFYD_FIRST_BYTES_TIMEOUT",
    default: "10s",
    parse: duration,
    description: "A new connection must send its first bytes within this time (on HTTP/2, its SETTINGS frame too, within as long again).",
  },
  headersTimeout: { flag: "headers-timeout", env: "VERIFYD_HEADERS_TIMEOUT", default: "10s", parse: duration, description: "Time to send request headers." },
  requestTimeout: { flag: "request-timeout", env: "VERIFYD_REQUEST_TIMEOUT", default: "30s", parse: duration, description: "Time to send a whole request." },
  idleTimeout: { flag: "idle-timeout", env: "VERIFYD_IDLE_TIMEOUT", default: "60s", parse: duration, description: "Idle HTTP/1.1 connections, and HTTP/2 connections with no open call, are closed after this." },
  maxConnections: { flag: "max-connections", env: "VERIFYD_MAX_CONNECTIONS", default: "1000", parse: integer(1, 1_000_000), description: "Open connections at once." },
  maxConnectionsPerClient: {
    flag: "max-connections-per-client",
    env: "VERIFYD_MAX_CONNECTIONS_PER_CLIENT",
    default: "100",
    parse: integer(1, 1_000_000),
    description: "Open connections at once from one client address; behind a proxy, raise it to --max-connections.",
  },
  maxConcurrentStreams: {
    flag: "max-concurrent-streams",
    env: "VERIFYD_MAX_CONCURRENT_STREAMS",
    default: "100",
    parse: integer(1, 10_000),
    description: "HTTP/2 streams per connection.",
  },
  maxOpenStreams: {
    flag: "max-open-streams",
    env: "VERIFYD_MAX_OPEN_STREAMS",
    default: "5000",
    parse: integer(1, 1_000_000),
    description:
      "HTTP/2 calls open at once, all connections together (each costs about 11 KB before its request arrives); a client address may hold its share of --max-connections of them (at least --max-concurrent-streams). A call beyond is refused with REFUSED_STREAM, which clients may retry.",
  },
  maxHeaderBytes: { flag: "max-header-bytes", env: "VERIFYD_MAX_HEADER_BYTES", default: "16KiB", parse: bytesUpTo(1), description: "Largest request header block, over HTTP/1.1 and HTTP/2 (431 beyond it). Two Host or Authorization headers are refused with 400 whatever the size." },
  allowedHosts: {
    flag: "allowed-hosts",
    env: "VERIFYD_ALLOWED_HOSTS",
    default: "localhost,127.0.0.1,::1",
    parse: list,
    description: "Host names clients may address (Host, :authority; comma-separated, `*` turns the check off); others get 421.",
  },
  tlsAtProxy: booleanSetting({
    flag: "tls-at-proxy",
    env: "VERIFYD_TLS_AT_PROXY",
    default: "false",
    description: "TLS ends at a proxy in front: production may then listen beyond loopback without --tls-cert.",
  }),
  trustedProxies: {
    flag: "trusted-proxies",
    env: "VERIFYD_TRUSTED_PROXIES",
    default: "",
    parse: trustedProxies,
    description:
      "Proxies in front whose X-Forwarded-For names the client (comma-separated addresses, CIDR ranges, or loopback, linklocal, uniquelocal): the address the logs, the security log and the per-client limits on calls then see; their own connections are held to --max-connections alone. Unset, every client is the address that connected.",
  },
  corsOrigins: {
    flag: "cors-origins",
    env: "VERIFYD_CORS_ORIGINS",
    default: "",
    parse: originList,
    description: "Browser origins allowed to call (comma-separated, as browsers send them: https://app.example.com; `*` for any); none by default.",
  },
  reflection: booleanSetting({
    flag: "reflection",
    env: "VERIFYD_REFLECTION",
    default: "true",
    description: "gRPC server reflection (v1, v1alpha; no token needed), so grpcurl and buf curl need no .proto files; `--no-reflection` turns it off.",
  }),
  metrics: booleanSetting({
    flag: "metrics",
    env: "VERIFYD_METRICS",
    default: "true",
    description: "Prometheus metrics at GET /metrics (no token needed, no personal data); `--no-metrics` turns them off.",
  }),
  metricsPort: {
    flag: "metrics-port",
    env: "VERIFYD_METRICS_PORT",
    parse: integer(0, 65535),
    description: "Serve /metrics on this port of --host instead of the main one (plain HTTP; 0: any free port); unset: on the main port.",
  },
  shutdownDelay: {
    flag: "shutdown-delay",
    env: "VERIFYD_SHUTDOWN_DELAY",
    default: "5s",
    parse: duration,
    description: "On SIGTERM or SIGINT, /readyz and gRPC health fail at once but new calls are still taken this long, until load balancers have stopped sending them.",
  },
  shutdownGrace: {
    flag: "shutdown-grace",
    env: "VERIFYD_SHUTDOWN_GRACE",
    default: "20s",
    parse: duration,
    description: "Then in-flight calls may take this long to finish before their connections are closed and the process exits 0.",
  },
  sqliteLocking: {
    flag: "sqlite-locking",
    env: "VERIFYD_SQLITE_LOCKING",
    default: "exclusive",
    parse: oneOf<SqliteLocking>("exclusive", "normal"),
    description:
      "SQLite: exclusive holds the file's locks while no other verifyd process has it open (verifyd's commands and servers get in within 250 ms; 14% less CPU per call); normal, for other programs that read the file while verifyd runs (Litestream, the sqlite3 shell).",
  },
  skipIntegrityCheck: booleanSetting({
    flag: "skip-integrity-check",
    env: "VERIFYD_SKIP_INTEGRITY_CHECK",
    default: "false",
    description: "Skip SQLite's quick_check of the database at start (for files too large to scan each time).",
  }),
  outboxRetention: {
    flag: "outbox-retention",
    env: "VERIFYD_OUTBOX_RETENTION",
    default: "7d",
    parse: lifetime,
    description: "Delivered and expired messages (already wiped of their text) are deleted this long after their code expired.",
  },
  deliveryTimeout: {
    flag: "delivery-timeout",
    env: "VERIFYD_DELIVERY_TIMEOUT",
    default: "30s",
    parse: deliveryTimeout,
    description: "A provider (a webhook receiver) that has not accepted a message within this time has failed; the message is retried.",
  },
  deliveryAttempts: {
    flag: "delivery-attempts",
    env: "VERIFYD_DELIVERY_ATTEMPTS",
    default: "8",
    parse: integer(1, 20),
    description: "Attempts at one message (1 s apart, doubling up to 5 min) before it is dead: `verifyd outbox list-dead` shows it, `verifyd outbox retry` sends it again while its code is valid.",
  },
  smsWebhookUrl: {
    flag: "sms-webhook-url",
    env: "VERIFYD_SMS_WEBHOOK_URL",
    parse: httpUrl,
    description: "Deliver SMS (phone codes) as signed JSON POSTs (Standard Webhooks) to this http(s) URL; needs --webhook-secret.",
  },
  emailWebhookUrl: {
    flag: "email-webhook-url",
    env: "VERIFYD_EMAIL_WEBHOOK_URL",
    parse: httpUrl,
    description: "Deliver emails (email codes) as signed JSON POSTs (Standard Webhooks) to this http(s) URL; needs --webhook-secret.",
  },
  webhookSecret: {
    flag: "webhook-secret",
    env: "VERIFYD_WEBHOOK_SECRET",
    parse: parseWebhookSecret,
    description: "Signs the webhooks: `whsec_` and 24 to 64 random bytes in base64 (`echo whsec_$(openssl rand -base64 32)`); the receiver verifies with the same.",
  },
  twilioAccountSid: {
    flag: "twilio-account-sid",
    env: "TWILIO_ACCOUNT_SID",
    parse: parseAccountSid,
    description: "Deliver SMS through Twilio's Messages API with this account (AC…); needs TWILIO_AUTH_TOKEN, and TWILIO_FROM or TWILIO_MESSAGING_SERVICE_SID.",
  },
  twilioAuthToken: {
    flag: "twilio-auth-token",
    env: "TWILIO_AUTH_TOKEN",
    parse: parseAuthToken,
    description: "The Twilio account's auth token (production refuses it as a flag: use the variable).",
  },
  twilioFrom: {
    flag: "twilio-from",
    env: "TWILIO_FROM",
    parse: parseSender,
    description: "Sender of the SMS: a number of the Twilio account in E.164, a short code, or an alphanumeric sender id.",
  },
  twilioMessagingServiceSid: {
    flag: "twilio-messaging-service-sid",
    env: "TWILIO_MESSAGING_SERVICE_SID",
    parse: parseMessagingServiceSid,
    description: "A Twilio Messaging Service (MG…) that chooses the sender, instead of TWILIO_FROM.",
  },
  twilioBaseUrl: {
    flag: "twilio-base-url",
    env: "VERIFYD_TWILIO_BASE_URL",
    default: "https://api.twilio.com",
    parse: httpUrl,
    description: "Where Twilio's API is: https://api.twilio.com, or a proxy in front of it, or a stand-in in tests.",
  },
  smtpUrl: {
    flag: "smtp-url",
    env: "VERIFYD_SMTP_URL",
    parse: parseSmtpUrl,
    description: "Deliver emails through this SMTP server: `smtps://user:password@host:465` (TLS), or `smtp://…:587` (STARTTLS when offered); needs --email-from.",
  },
  smtpRequireStarttls: booleanSetting({
    flag: "smtp-require-starttls",
    env: "VERIFYD_SMTP_REQUIRE_STARTTLS",
    default: "false",
    description: "With smtp://, send nothing over a connection the server does not upgrade with STARTTLS (production requires it beyond loopback).",
  }),
  smtpCaFile: {
    flag: "smtp-ca-file",
    env: "VERIFYD_SMTP_CA_FILE",
    parse: pemCertificates,
    description: "PEM certificates to trust for the SMTP server's certificate instead of the system's (a relay with a private CA).",
  },
  emailFrom: {
    flag: "email-from",
    env: "VERIFYD_EMAIL_FROM",
    parse: parseEmailSender,
    description: "Sender of the emails sent over SMTP: an address, or `Name <address>`.",
  },
  sendChannels: {
    flag: "send-channels",
    env: "VERIFYD_SEND_CHANNELS",
    default: "phone,email",
    parse: channels,
    description: "Channels whose codes verifyd sends (`phone`, `email`, both, or `none`); send_code elsewhere is refused (CODE_DELIVERY_DISABLED), return_code works. Production needs a provider for each.",
  },
  sendCooldown: {
    flag: "send-cooldown",
    env: "VERIFYD_SEND_COOLDOWN",
    default: "60s",
    parse: lifetime,
    description: "Least time between two codes sent to one user on one channel (0s: none).",
  },
  sendsPerDestination10m: {
    flag: "sends-per-destination-10m",
    env: "VERIFYD_SENDS_PER_DESTINATION_10M",
    default: "5",
    parse: integer(1, 1_000_000),
    description: "Codes sent to one phone number or address per 10 minutes, whoever asks.",
  },
  sendsPerDestinationDay: {
    flag: "sends-per-destination-day",
    env: "VERIFYD_SENDS_PER_DESTINATION_DAY",
    default: "20",
    parse: integer(1, 1_000_000),
    description: "Codes sent to one phone number or address per 24 hours, whoever asks.",
  },
  sendsPerOrganizationHour: {
    flag: "sends-per-organization-hour",
    env: "VERIFYD_SENDS_PER_ORGANIZATION_HOUR",
    default: "1000",
    parse: integer(1, 100_000_000),
    description: "Codes sent for the users of one organization per hour.",
  },
  sendsPerCallerHour: {
    flag: "sends-per-caller-hour",
    env: "VERIFYD_SENDS_PER_CALLER_HOUR",
    default: "500",
    parse: integer(1, 100_000_000),
    description: "Codes sent at the request of one caller (the user behind a token) per hour.",
  },
  verificationsPerUserHour: {
    flag: "verifications-per-user-hour",
    env: "VERIFYD_VERIFICATIONS_PER_USER_HOUR",
    default: "30",
    parse: integer(1, 1_000_000),
    description: "Codes judged (right or wrong) for one user per hour, phone and email together.",
  },
  testContacts: booleanSetting({
    flag: "test-contacts",
    env: "VERIFYD_TEST_CONTACTS",
    default: "false",
    description: "Honour organizations' test numbers and addresses (fixed code, never delivered) in production mode; always on in development.",
  }),
  appName: {
    flag: "app-name",
    env: "VERIFYD_APP_NAME",
    default: "verifyd",
    parse: parseAppName,
    description: "Your app's or service's name, as the SMS and emails name it to people (`{{app_name}}` in templates; at most 40 characters).",
  },
  defaultLanguage: {
    flag: "default-language",
    env: "VERIFYD_DEFAULT_LANGUAGE",
    default: "en",
    parse: parseLanguageTag,
    description: "Language of the messages to people whose preferred language has no templates (shipped: en, de; more with --templates-dir).",
  },
  webotpHost: {
    flag: "webotp-host",
    env: "VERIFYD_WEBOTP_HOST",
    parse: parseWebOtpHost,
    description: "Ends each SMS code with `@<host> #<code>`, so that browsers on https://<host> offer the code for autofill (WebOTP); unset: no such line.",
  },
  templatesDir: {
    flag: "templates-dir",
    env: "VERIFYD_TEMPLATES_DIR",
    parse: text,
    description: "Directory of message templates (`<language>/<message>.txt`, `.subject.txt`, `.html`) that replace shipped ones or add languages; read and checked once at start.",
  },
  securityLogRetention: {
    flag: "security-log-retention",
    env: "VERIFYD_SECURITY_LOG_RETENTION",
    default: "90d",
    parse: lifetime,
    description: "Security log entries are deleted this long after they last occurred.",
  },
  logLevel: {
    flag: "log-level",
    env: "VERIFYD_LOG_LEVEL",
    default: "info",
    parse: oneOf<LogLevel>("debug", "info", "warn", "error", "silent"),
    description: "debug, info, warn, error or silent.",
  },
} satisfies Record<string, Setting<unknown>>;

export type Settings = typeof settings;
export type SettingName = keyof Settings;
export type Values = { [K in keyof Settings]: Settings[K] extends { default: unknown } ? ReturnType<Settings[K]["parse"]> : ReturnType<Settings[K]["parse"]> | undefined };

/** Settings whose values are secrets or may carry one (a receiver's token in a URL): a refusal never repeats them. */
const secretSettings: ReadonlySet<SettingName> = new Set([
  // A PostgreSQL URL may carry a password.
  "database",
  "keys",
  "webhookSecret",
  "twilioAuthToken",
  "smtpUrl",
  "smsWebhookUrl",
  "emailWebhookUrl",
  "twilioBaseUrl",
]);

/** Every bad setting, one line each naming its flag and variable. */
export class ConfigError extends Error {
  override name = "ConfigError";
  constructor(readonly problems: readonly string[]) {
    super(`invalid configuration:\n  ${problems.join("\n  ")}`);
  }
}

/**
 * parseArgs's `args` and `options` for the flags of these settings, which a command's own options may join: every
 * flag a string, the boolean ones given their value (config-boolean-flags.ts).
 */
export function settingArgs(
  names: readonly SettingName[],
  args: readonly string[],
): { args: string[]; options: Record<string, { type: "string" }> } {
  const declared: Setting<unknown>[] = names.map((name) => settings[name]);
  const booleanFlags = new Set(declared.filter((setting) => setting.boolean).map((setting) => setting.flag));
  return {
    args: withBooleanValues(args, booleanFlags),
    options: Object.fromEntries(declared.map((setting) => [setting.flag, { type: "string" }])),
  };
}

export interface SettingsRead<K extends SettingName> {
  values: Pick<Values, K>;
  fromFlags: Set<K>;
  /** Given by flag or in the environment, rather than left at the default. */
  given: Set<K>;
  /** One line per bad value, naming its flag and variable; `values` lacks those settings. */
  problems: string[];
}

/** Reads these settings from parsed flags, else the environment, else their defaults. */
export function readSettings<K extends SettingName>(
  names: readonly K[],
  flags: Readonly<Record<string, string | boolean | undefined>>,
  env: NodeJS.ProcessEnv,
): SettingsRead<K> {
  const values = {} as Record<string, unknown>;
  const fromFlags = new Set<K>();
  const given = new Set<K>();
  const problems: string[] = [];
  for (const key of names) {
    const setting: Setting<unknown> = settings[key];
    const fromFlag = flags[setting.flag];
    if (fromFlag !== undefined) fromFlags.add(key);
    const value = fromFlag === undefined ? env[setting.env] : String(fromFlag);
    if (value === "" && setting.refuseEmpty) {
      problems.push(`--${setting.flag} / ${setting.env}: is empty; leave it unset for the default ${setting.default}`);
      continue;
    }
    if (value !== undefined && value !== "") given.add(key);
    const raw = value === undefined || value === "" ? setting.default : value;
    if (raw === undefined) continue;
    try {
      values[key] = setting.parse(raw);
    } catch (error) {
      const shown = secretSettings.has(key) ? "" : ` (got "${raw}")`;
      problems.push(`--${setting.flag} / ${setting.env}: ${(error as Error).message}${shown}`);
    }
  }
  return { values: values as Pick<Values, K>, fromFlags, given, problems };
}

/**
 * The admin token file: as given, or beside the database (a PostgreSQL database has no directory: ./data). A database
 * in memory is new at every start, so its token goes to a directory of its own under the system's temporary one,
 * where no earlier start's file is in the way.
 */
export function adminTokenFileOf(values: Pick<Values, "adminTokenFile" | "database">): string {
  if (values.adminTokenFile !== undefined) return values.adminTokenFile;
  if (isPrivateDatabase(values.database)) return join(tmpdir(), `verifyd-${randomUUID()}`, "admin-token");
  return join(isPostgresUrl(values.database) ? "data" : dirname(values.database), "admin-token");
}

export function loadConfig(argv: readonly string[], env: NodeJS.ProcessEnv): Config {
  const names = Object.keys(settings) as SettingName[];
  const { values: flags } = parseArgs({ ...settingArgs(names, argv), strict: true, allowPositionals: false });
  const { values, fromFlags, given, problems } = readSettings(names, flags, env);
  // Once every setting has a value, all that is wrong with them together, so that one start names every problem.
  const parsed = problems.length === 0 ? (values as Values) : undefined;
  const unsafe = parsed ? developmentOnly(parsed, fromFlags) : [];
  if (parsed) problems.push(...crossCheck(parsed), ...otherDialectSettings(parsed, given));
  if (parsed?.production) {
    problems.push(...unsafe.map((item) => `${item}; refused with --production`), ...productionRequirements(parsed));
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return toConfig(values as Values, unsafe);
}

/** What OpenSSL finds wrong with a PEM certificate and key (not PEM, or a key that is not the certificate's). */
function tlsPairProblem(cert: string, key: string): string | undefined {
  try {
    createSecureContext({ cert, key });
    return undefined;
  } catch (error) {
    // "error:0480006C:PEM routines::no start line" → "PEM routines::no start line"
    return (error as Error).message.replace(/^error:[0-9A-F]+:/, "");
  }
}

const sqliteOnly: readonly SettingName[] = ["sqliteLocking", "skipIntegrityCheck"];
const postgresOnly: readonly SettingName[] = ["databasePoolSize", "databaseConnectTimeout", "databaseStatementTimeout"];

/** A setting given for the database kind not in use would be ignored: most likely the database is not the one meant. */
function otherDialectSettings(values: Values, given: ReadonlySet<SettingName>): string[] {
  const [inUse, ignored, theirs] = isPostgresUrl(values.database)
    ? ["a PostgreSQL URL", sqliteOnly, "SQLite"]
    : ["a SQLite file", postgresOnly, "PostgreSQL"];
  return ignored
    .filter((name) => given.has(name))
    .map((name) => `--${settings[name].flag} / ${settings[name].env}: is for ${theirs} only, and --database / DATABASE_URL is ${inUse}`);
}

function crossCheck(values: Values): string[] {
  const problems: string[] = [];
  if ((values.tlsCert === undefined) !== (values.tlsKey === undefined)) {
    problems.push("--tls-cert and --tls-key go together");
  } else if (values.tlsCert !== undefined) {
    const problem = tlsPairProblem(values.tlsCert, values.tlsKey!);
    if (problem) problems.push(`--tls-cert / --tls-key: not a usable certificate and private key: ${problem}`);
  }
  if (values.production && values.devPrintCodes) {
    problems.push("--dev-print-codes prints secrets and is refused with --production");
  }
  // Production asks for VERIFYD_KEYS on its own (productionRequirements).
  if (isPostgresUrl(values.database) && values.keys === undefined && !values.production) {
    // A keyring generated beside a file has no place here, and each process would generate its own.
    problems.push(
      "--database / DATABASE_URL: with PostgreSQL every process must use the same keys; give them in VERIFYD_KEYS (make them with `verifyd keys generate`)",
    );
  }
  const webhookUrls = values.smsWebhookUrl !== undefined || values.emailWebhookUrl !== undefined;
  if (webhookUrls && values.webhookSecret === undefined) {
    problems.push("--sms-webhook-url / --email-webhook-url need --webhook-secret / VERIFYD_WEBHOOK_SECRET to sign with");
  } else if (!webhookUrls && values.webhookSecret !== undefined) {
    problems.push("--webhook-secret / VERIFYD_WEBHOOK_SECRET is set but no webhook URL is (VERIFYD_SMS_WEBHOOK_URL, VERIFYD_EMAIL_WEBHOOK_URL)");
  }
  problems.push(...deliveryProblems(values));
  if (values.maxBodiesInTransit < values.maxBodyBytes) {
    problems.push("--max-bodies-in-transit must be at least --max-body-bytes, or no call of the largest size could arrive");
  }
  if (values.sendCooldown > longestLimitWindowMs) problems.push("--send-cooldown must be at most 1d");
  problems.push(...codeAlphabetProblems(values.codeAlphabet, values.codeLength));
  return problems;
}

function toConfig(values: Values, warnings: string[]): Config {
  return {
    host: values.host,
    port: values.port,
    database: values.database,
    postgres: {
      poolSize: values.databasePoolSize,
      connectTimeoutMs: values.databaseConnectTimeout,
      statementTimeoutMs: values.databaseStatementTimeout,
    },
    ...(values.tlsCert && values.tlsKey ? { tls: { cert: values.tlsCert, key: values.tlsKey } } : {}),
    ...(values.keys ? { keys: values.keys } : {}),
    production: values.production,
    devPrintCodes: values.devPrintCodes,
    code: { length: values.codeLength, alphabet: values.codeAlphabet, ttlMs: values.codeTtl, maxAttempts: values.codeMaxAttempts },
    failures: { maxConsecutiveFailures: values.maxConsecutiveFailures, lockoutMs: values.failureLockout },
    phone: { ...(values.defaultRegion ? { defaultRegion: values.defaultRegion } : {}), allowLandline: values.allowLandline },
    limits: {
      maxBodyBytes: values.maxBodyBytes,
      firstBytesTimeoutMs: values.firstBytesTimeout,
      headersTimeoutMs: values.headersTimeout,
      requestTimeoutMs: values.requestTimeout,
      idleTimeoutMs: values.idleTimeout,
      maxConnections: values.maxConnections,
      maxConnectionsPerClient: values.maxConnectionsPerClient,
      maxConcurrentStreams: values.maxConcurrentStreams,
      maxOpenStreams: values.maxOpenStreams,
      maxHeaderBytes: values.maxHeaderBytes,
      maxBodiesInTransitBytes: values.maxBodiesInTransit,
    },
    allowedHosts: values.allowedHosts,
    corsOrigins: values.corsOrigins,
    reflection: values.reflection,
    metrics: { enabled: values.metrics, ...(values.metricsPort === undefined ? {} : { port: values.metricsPort }) },
    tlsAtProxy: values.tlsAtProxy,
    trustedProxies: values.trustedProxies,
    integrityCheck: !values.skipIntegrityCheck,
    sqliteLocking: values.sqliteLocking,
    outboxRetentionMs: values.outboxRetention,
    delivery: {
      timeoutMs: values.deliveryTimeout,
      attempts: values.deliveryAttempts,
      ...(values.webhookSecret
        ? {
            webhook: {
              key: values.webhookSecret,
              urls: {
                ...(values.smsWebhookUrl ? { phone: values.smsWebhookUrl } : {}),
                ...(values.emailWebhookUrl ? { email: values.emailWebhookUrl } : {}),
              },
            },
          }
        : {}),
      ...(values.twilioAccountSid && values.twilioAuthToken
        ? {
            twilio: {
              accountSid: values.twilioAccountSid,
              authToken: values.twilioAuthToken,
              sender: values.twilioFrom ? { from: values.twilioFrom } : { messagingServiceSid: values.twilioMessagingServiceSid as string },
              baseUrl: values.twilioBaseUrl,
            },
          }
        : {}),
      ...(values.smtpUrl && values.emailFrom
        ? {
            smtp: {
              server: values.smtpUrl,
              requireStartTls: values.smtpRequireStarttls,
              ...(values.smtpCaFile ? { ca: values.smtpCaFile } : {}),
              from: values.emailFrom,
            },
          }
        : {}),
      sendChannels: values.sendChannels,
    },
    verificationLimits: {
      sendCooldownMs: values.sendCooldown,
      sendsPerDestinationShort: values.sendsPerDestination10m,
      sendsPerDestinationDay: values.sendsPerDestinationDay,
      sendsPerOrganizationHour: values.sendsPerOrganizationHour,
      sendsPerCallerHour: values.sendsPerCallerHour,
      verificationsPerUserHour: values.verificationsPerUserHour,
    },
    testContacts: values.testContacts || !values.production,
    messages: {
      appName: values.appName,
      defaultLanguage: values.defaultLanguage,
      ...(values.webotpHost === undefined ? {} : { webOtpHost: values.webotpHost }),
      ...(values.templatesDir === undefined ? {} : { templatesDir: values.templatesDir }),
    },
    securityLogRetentionMs: values.securityLogRetention,
    adminTokenFile: adminTokenFileOf(values),
    tokens: {
      loginTtlMs: values.loginTokenTtl,
      personalTtlMs: values.personalTokenTtl,
      loginsNeedOrganization: values.loginsNeedOrganization,
    },
    passwordChecks: { atOnce: values.passwordChecksAtOnce, waiting: values.passwordChecksWaiting },
    shutdown: { delayMs: values.shutdownDelay, graceMs: values.shutdownGrace },
    logLevel: values.logLevel,
    warnings,
  };
}
