import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig, settings } from "../../src/config.js";
import { productionEnv, productionFlags, productionKeys } from "../helpers/production-settings.js";

describe("configuration", () => {
  it("has production-safe defaults", () => {
    const config = loadConfig([], {});
    expect(config).toMatchObject({
      host: "127.0.0.1",
      port: 8080,
      database: "./data/verifyd.sqlite",
      devPrintCodes: false,
      code: { length: 6, alphabet: "0123456789", ttlMs: 600_000, maxAttempts: 5 },
      failures: { maxConsecutiveFailures: 100, lockoutMs: 3_600_000 },
      limits: { maxBodyBytes: 65_536 },
    });
    expect(config.tls).toBeUndefined();
  });

  it("takes a PostgreSQL URL with the keys all processes share, and its pool settings", () => {
    const keys = productionKeys;
    const config = loadConfig(["--database-pool-size", "4", "--database-connect-timeout", "2s"], {
      DATABASE_URL: "postgresql://verifyd:secret@db.example:5432/verifyd",
      VERIFYD_KEYS: keys,
    });
    expect(config).toMatchObject({
      database: "postgresql://verifyd:secret@db.example:5432/verifyd",
      postgres: { poolSize: 4, connectTimeoutMs: 2_000, statementTimeoutMs: 10_000 },
      adminTokenFile: join("data", "admin-token"),
    });
    expect(() => loadConfig(["--database", "postgres://db/verifyd"], {})).toThrow(
      /with PostgreSQL every process must use the same keys; give them in VERIFYD_KEYS/,
    );
    expect(() => loadConfig(["--database", "mysql://db/verifyd"], {})).toThrow(/give the SQLite file as a plain path.*or a postgres:\/\/ URL/);
  });

  it("refuses a setting for the other kind of database, by flag or in the environment, naming both", () => {
    const postgres = { DATABASE_URL: "postgres://db/verifyd", VERIFYD_KEYS: productionKeys };
    expect(() => loadConfig(["--sqlite-locking", "normal"], { ...postgres, VERIFYD_SKIP_INTEGRITY_CHECK: "true" })).toThrow(
      new ConfigError([
        "--sqlite-locking / VERIFYD_SQLITE_LOCKING: is for SQLite only, and --database / DATABASE_URL is a PostgreSQL URL",
        "--skip-integrity-check / VERIFYD_SKIP_INTEGRITY_CHECK: is for SQLite only, and --database / DATABASE_URL is a PostgreSQL URL",
      ]),
    );
    expect(() => loadConfig(["--database", "verifyd.sqlite"], { VERIFYD_DATABASE_POOL_SIZE: "20" })).toThrow(
      "--database-pool-size / VERIFYD_DATABASE_POOL_SIZE: is for PostgreSQL only, and --database / DATABASE_URL is a SQLite file",
    );
    // Set empty, a variable counts as not given.
    expect(loadConfig([], { ...postgres, VERIFYD_SQLITE_LOCKING: "" }).database).toBe("postgres://db/verifyd");
  });

  it("refuses a database password on the command line in production, where ps shows it", () => {
    const url = "postgres://verifyd:secret@db.example/verifyd";
    expect(() => loadConfig([...productionFlags, "--database", url], productionEnv)).toThrow(
      /--database: a password on the command line is visible to every user of the machine \(ps\); use DATABASE_URL/,
    );
    expect(loadConfig(productionFlags, { ...productionEnv, DATABASE_URL: url }).database).toBe(url);
  });

  it("reads the environment and lets flags win", () => {
    const config = loadConfig(["--port", "9000", "--code-ttl", "5m"], { PORT: "7000", HOST: "0.0.0.0", VERIFYD_CODE_LENGTH: "8" });
    expect(config).toMatchObject({ port: 9000, host: "0.0.0.0", code: { length: 8, ttlMs: 300_000 } });
  });

  it("lets --no-<flag> switch off a boolean the environment switched on", () => {
    expect(loadConfig([], { VERIFYD_DEV_PRINT_CODES: "true" }).devPrintCodes).toBe(true);
    expect(loadConfig(["--no-dev-print-codes"], { VERIFYD_DEV_PRINT_CODES: "true" }).devPrintCodes).toBe(false);
    expect(loadConfig(["--no-production"], { VERIFYD_PRODUCTION: "true" }).production).toBe(false);
  });

  it("reads every boolean flag alike: --flag, --no-flag, --flag=<value>, --flag <value> (noted by a hostile trial)", () => {
    expect(loadConfig(["--no-reflection", "--no-metrics"], {})).toMatchObject({ reflection: false, metrics: { enabled: false } });
    const needOrganization = (...flags: string[]) => loadConfig(flags, { VERIFYD_LOGINS_NEED_ORGANIZATION: "true" }).tokens.loginsNeedOrganization;
    expect(needOrganization("--logins-need-organization", "false")).toBe(false);
    expect(needOrganization("--logins-need-organization=no")).toBe(false);
    expect(needOrganization("--no-logins-need-organization", "--logins-need-organization")).toBe(true);
    expect(loadConfig(["--production", "--no-production"], {}).production).toBe(false);
  });

  it("refuses bodies in transit below one whole body", () => {
    expect(() => loadConfig(["--max-body-bytes", "1MiB", "--max-bodies-in-transit", "512KiB"], {})).toThrow(
      /--max-bodies-in-transit must be at least --max-body-bytes/,
    );
    expect(loadConfig([], {}).limits).toMatchObject({ maxBodyBytes: 65_536, maxBodiesInTransitBytes: 32 * 1024 * 1024 });
  });

  it("runs password checks one fewer than the cores at once by default (1 to 4), and refuses none at all", () => {
    expect(loadConfig([], {}).passwordChecks).toEqual({ atOnce: Math.min(4, Math.max(1, availableParallelism() - 1)), waiting: 32 });
    expect(loadConfig([], { VERIFYD_PASSWORD_CHECKS_AT_ONCE: "3", VERIFYD_PASSWORD_CHECKS_WAITING: "0" }).passwordChecks).toEqual({ atOnce: 3, waiting: 0 });
    expect(() => loadConfig(["--password-checks-at-once", "0"], {})).toThrow(
      /--password-checks-at-once \/ VERIFYD_PASSWORD_CHECKS_AT_ONCE: must be auto or an integer from 1 to 64/,
    );
  });

  it("takes trusted proxies as addresses, CIDR ranges and named ranges, and refuses a typo rather than trust nobody", () => {
    expect(loadConfig(["--trusted-proxies", "10.0.0.0/8, ::1, loopback"], {}).trustedProxies).toEqual(["10.0.0.0/8", "::1", "loopback"]);
    expect(loadConfig([], {}).trustedProxies).toEqual([]);
    expect(() => loadConfig([], { VERIFYD_TRUSTED_PROXIES: "10.0.0.0/33" })).toThrow(
      /--trusted-proxies \/ VERIFYD_TRUSTED_PROXIES: 10.0.0.0\/33 is no address, CIDR range, loopback, linklocal or uniquelocal/,
    );
    expect(() => loadConfig(["--trusted-proxies", "nginx.internal"], {})).toThrow(/nginx.internal is no address/);
  });

  it("names every bad setting at once", () => {
    expect(() => loadConfig(["--port", "http", "--code-ttl", "soon"], {})).toThrow(
      /--port \/ PORT: must be an integer from 0 to 65535.*\n.*--code-ttl \/ VERIFYD_CODE_TTL: must be a duration/s,
    );
  });

  it("refuses timers Node cannot hold, lifetimes beyond ten years, and sizes outside their range", () => {
    expect(() => loadConfig(["--first-bytes-timeout", "30d"], {})).toThrow(/--first-bytes-timeout \/ VERIFYD_FIRST_BYTES_TIMEOUT: must be at most 24d/);
    expect(() => loadConfig(["--shutdown-delay", "25d"], {})).toThrow(/--shutdown-delay \/ VERIFYD_SHUTDOWN_DELAY: must be at most 24d/);
    expect(loadConfig(["--idle-timeout", "24d"], {}).limits.idleTimeoutMs).toBe(24 * 86_400_000);
    expect(() => loadConfig(["--login-token-ttl", "99999999999999d"], {})).toThrow(/--login-token-ttl \/ VERIFYD_LOGIN_TOKEN_TTL: must be at most 3650d/);
    expect(() => loadConfig(["--code-ttl", "99999999d"], {})).toThrow(/--code-ttl \/ VERIFYD_CODE_TTL: must be at most 3650d/);
    expect(loadConfig(["--personal-token-ttl", "3650d"], {}).tokens.personalTtlMs).toBe(3650 * 86_400_000);
    for (const size of ["0", "1000", "65MiB", "4096MiB"]) {
      expect(() => loadConfig(["--max-body-bytes", size], {}), size).toThrow(/--max-body-bytes \/ VERIFYD_MAX_BODY_BYTES: must be from 1KiB to 64MiB/);
    }
    expect(() => loadConfig(["--max-header-bytes", "1"], {})).toThrow(/--max-header-bytes \/ VERIFYD_MAX_HEADER_BYTES: must be from 1KiB to 1MiB/);
  });

  it("names every refusal of production at once, also beside a setting that conflicts with another", () => {
    const problems = (() => {
      try {
        loadConfig(["--production", "--dev-print-codes", "--failure-lockout", "10s"], {});
      } catch (error) {
        return (error as ConfigError).problems;
      }
      return [];
    })();
    expect(problems).toEqual([
      "--dev-print-codes prints secrets and is refused with --production",
      expect.stringMatching(/^--failure-lockout .*; refused with --production$/),
      expect.stringMatching(/^VERIFYD_KEYS: production takes its keys from the environment/),
      expect.stringMatching(/^--send-channels \/ VERIFYD_SEND_CHANNELS: phone codes are sent/),
      expect.stringMatching(/^--send-channels \/ VERIFYD_SEND_CHANNELS: email codes are sent/),
    ]);
  });

  it("refuses printing codes in production and half a TLS setup", () => {
    expect(() => loadConfig(["--production", "--dev-print-codes"], {})).toThrow(/refused with --production/);
    const certFile = join(mkdtempSync(join(tmpdir(), "verifyd-config-")), "cert.pem");
    writeFileSync(certFile, "-----BEGIN CERTIFICATE-----\n");
    expect(() => loadConfig(["--tls-cert", certFile], {})).toThrow(/--tls-cert and --tls-key go together/);
    expect(() => loadConfig(["--tls-cert", "/nonexistent/cert.pem"], {})).toThrow(/--tls-cert \/ TLS_CERT: cannot read/);
    expect(() => loadConfig([], { DATABASE_URL: "sqlite:///tmp/v.db" })).toThrow(/plain path/);
    expect(() => loadConfig(["--default-region", "XX"], {})).toThrow(/numbering plan/);
  });

  it("takes browser origins only as browsers send them", () => {
    expect(loadConfig(["--cors-origins", "https://app.example.com, http://localhost:5173,*"], {}).corsOrigins).toEqual([
      "https://app.example.com",
      "http://localhost:5173",
      "*",
    ]);
    expect(() => loadConfig(["--cors-origins", "not a url"], {})).toThrow(/"not a url" is not an http\(s\) origin/);
    expect(() => loadConfig(["--cors-origins", "ftp://files.example"], {})).toThrow(/is not an http\(s\) origin/);
    expect(() => loadConfig(["--cors-origins", "https://app.example/"], {})).toThrow(
      /"https:\/\/app.example\/" would never match: browsers send it as https:\/\/app.example \(got/,
    );
    expect(() => loadConfig(["--cors-origins", "https://App.Example:443"], {})).toThrow(/browsers send it as https:\/\/app.example/);
  });

  it("checks keys without echoing them", () => {
    const secretish = "c2VjcmV0LWtleS1tYXRlcmlhbC10aGF0LWlzLW5vdC0zMg==";
    expect(() => loadConfig(["--keys", secretish], {})).toThrow(/--keys \/ VERIFYD_KEYS: entry 1 must look like id:base64/);
    try {
      loadConfig(["--keys", secretish], {});
    } catch (error) {
      expect((error as Error).message).not.toContain(secretish.slice(0, 6));
    }
  });

  it("refuses an empty entry in the key list: the README's rotation line with VERIFYD_KEYS unset (noted by a trial)", () => {
    const entry = `20261129T120000Z:${Buffer.alloc(32, 7).toString("base64")}`;
    expect(() => loadConfig([], { VERIFYD_KEYS: `${entry},` })).toThrow(
      /--keys \/ VERIFYD_KEYS: entry 2 is empty \(a comma too many, or a variable that is not set\?\)/,
    );
  });

  it("serves reflection unless turned off by flag or environment", () => {
    expect(loadConfig([], {}).reflection).toBe(true);
    expect(loadConfig(["--reflection", "false"], {}).reflection).toBe(false);
    expect(loadConfig(["--reflection=no"], {}).reflection).toBe(false);
    expect(loadConfig([], { VERIFYD_REFLECTION: "0" }).reflection).toBe(false);
    expect(() => loadConfig(["--reflection", "off"], {})).toThrow(/--reflection \/ VERIFYD_REFLECTION: must be true or false/);
  });

  it("refuses codes that are easy to guess", () => {
    expect(() => loadConfig(["--code-length", "4"], {})).toThrow(/allow only 10000 codes; at least a million/);
    expect(() => loadConfig(["--code-alphabet", "01", "--code-length", "8"], {})).toThrow(/allow only 256 codes/);
    expect(loadConfig(["--code-alphabet", "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", "--code-length", "4"], {}).code.length).toBe(4);
    expect(() => loadConfig(["--max-consecutive-failures", "1000"], {})).toThrow(/from 1 to 100/);
  });

  it("refuses an alphabet whose characters a submitted code would read as others: a code could never be typed back", () => {
    expect(() => loadConfig(["--code-alphabet", "０１２３４５６７８９"], {})).toThrow(/--code-alphabet holds characters .*: "０" "１"/);
    expect(() => loadConfig(["--code-alphabet", "٠١٢٣٤٥٦٧٨٩"], {})).toThrow(/other scripts' digits/);
  });

  it("names what a code would join into other characters, not the repeats it makes: combining marks, characters of several code points", () => {
    const joined = "--code-alphabet holds characters of several code points, or combining marks, which a code would join to the character before them";
    expect(() => loadConfig(["--code-alphabet", "\u0301abcdefghij"], {})).toThrow(`${joined}: "\u0301" (U+0301)`);
    expect(() => loadConfig(["--code-alphabet", "0123456789\u{1f1e8}\u{1f1ed}"], {})).toThrow(`${joined}: "\u{1f1e8}\u{1f1ed}" (U+1F1E8 U+1F1ED)`);
    expect(loadConfig(["--code-alphabet", "\u00e9abcdefghij"], {}).code.alphabet).toBe("\u00e9abcdefghij");
  });

  describe("production mode", () => {
    const production = (...flags: string[]) => () => loadConfig([...productionFlags, ...flags], productionEnv);

    it.each([
      [["--host", "0.0.0.0", "--allowed-hosts", "verify.example"], /--host \/ HOST: 0\.0\.0\.0 serves other machines in cleartext/],
      [["--host", "0.0.0.0", "--tls-at-proxy"], /--allowed-hosts \/ VERIFYD_ALLOWED_HOSTS: lists only loopback names/],
      [["--cors-origins", "*"], /--cors-origins \/ VERIFYD_CORS_ORIGINS: \* lets every web page/],
      [["--failure-lockout", "0s"], /--failure-lockout \/ VERIFYD_FAILURE_LOCKOUT: under 1m/],
      [["--keys", productionKeys], /--keys: key material on the command line/],
      [["--code-ttl", "365d"], /--code-ttl \/ VERIFYD_CODE_TTL: a code must live from 1m to 24h/],
      [["--idle-timeout", "0s"], /--idle-timeout \/ VERIFYD_IDLE_TIMEOUT: 0 means no timeout at all/],
      [["--headers-timeout", "0ms"], /--headers-timeout \/ VERIFYD_HEADERS_TIMEOUT: 0 means no timeout/],
      [["--first-bytes-timeout", "0s"], /--first-bytes-timeout \/ VERIFYD_FIRST_BYTES_TIMEOUT: 0 means no timeout/],
      [["--request-timeout", "0s"], /--request-timeout \/ VERIFYD_REQUEST_TIMEOUT: 0 means no timeout/],
      [["--database", "postgres://db.internal/verifyd", "--database-statement-timeout", "0s"], /--database-statement-timeout \/ VERIFYD_DATABASE_STATEMENT_TIMEOUT: 0 means no timeout/],
      [["--database", "postgres://db.internal/verifyd", "--database-connect-timeout", "0s"], /--database-connect-timeout \/ VERIFYD_DATABASE_CONNECT_TIMEOUT: 0 means no timeout/],
      [["--code-alphabet", "\u0001\u0002\u0003\u0004\u0005\u0006\u0007\u0008\u000e\u000f"], /--code-alphabet \/ VERIFYD_CODE_ALPHABET: has control/],
      [["--database", ":memory:"], /--database \/ DATABASE_URL: :memory: loses every user/],
    ])("refuses %j, naming the setting", (flags, message) => {
      expect(production(...flags)).toThrow(message);
      expect(production(...flags)).toThrow(/refused with --production/);
    });

    it("starts with what a real deployment gives", () => {
      const config = production("--host", "0.0.0.0", "--tls-at-proxy", "--allowed-hosts", "verify.example,10.0.0.5")();
      expect(config).toMatchObject({ production: true, allowedHosts: ["verify.example", "10.0.0.5"], warnings: [] });
      expect(production()().warnings).toEqual([]);
    });

    it("names every refused setting at once", () => {
      expect(production("--cors-origins", "*", "--failure-lockout", "0s")).toThrow(/cors-origins.*\n.*failure-lockout/s);
    });

    it("lets development start with the same settings, each as a warning", () => {
      const config = loadConfig(["--cors-origins", "*", "--failure-lockout", "0s", "--database", ":memory:"], {});
      expect(config.warnings).toEqual([
        expect.stringMatching(/^--cors-origins/),
        expect.stringMatching(/^--failure-lockout/),
        expect.stringMatching(/^--database/),
      ]);
      expect(loadConfig([], {}).warnings).toEqual([]);
    });
  });

  it("refuses unknown flags", () => {
    expect(() => loadConfig(["--prot", "1"], {})).toThrow(/--prot/);
  });

  it("is documented in README.md, every flag and variable", () => {
    const readme = readFileSync(join(import.meta.dirname, "../../README.md"), "utf8");
    for (const setting of Object.values(settings)) {
      expect(readme).toContain(`\`--${setting.flag}\``);
      expect(readme).toContain(`\`${setting.env}\``);
    }
  });
});
