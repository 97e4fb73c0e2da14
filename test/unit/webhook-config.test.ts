// The webhook settings: what is accepted, what is refused (and that the secret is never repeated in the refusal),
// and what production mode refuses on top.
import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.js";
import { productionEnv } from "../helpers/production-settings.js";

const secret = `whsec_${randomBytes(32).toString("base64")}`;
const refusal = (argv: string[], env: NodeJS.ProcessEnv = {}): string => {
  try {
    loadConfig(argv, env);
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error("the configuration was accepted");
};

describe("webhook configuration", () => {
  it("reads the URLs per channel and the secret's key bytes from the environment", () => {
    const config = loadConfig([], {
      VERIFYD_SMS_WEBHOOK_URL: "https://hooks.example.com/sms",
      VERIFYD_WEBHOOK_SECRET: secret,
      VERIFYD_DELIVERY_TIMEOUT: "5s",
    });
    expect(config.delivery.timeoutMs).toBe(5000);
    expect(config.delivery.webhook?.urls.phone?.href).toBe("https://hooks.example.com/sms");
    expect(config.delivery.webhook?.urls.email).toBeUndefined();
    expect(Buffer.from(config.delivery.webhook?.key ?? []).toString("base64")).toBe(secret.slice("whsec_".length));
  });

  it("needs a secret for a URL, and a URL for a secret", () => {
    expect(refusal(["--email-webhook-url", "https://hooks.example.com/email"])).toMatch(/need --webhook-secret/);
    expect(refusal([], { VERIFYD_WEBHOOK_SECRET: secret })).toMatch(/no webhook URL is/);
  });

  it("refuses a bad receiver URL without repeating it, since it may carry the receiver's token or a password", () => {
    for (const [name, url] of [
      ["VERIFYD_SMS_WEBHOOK_URL", "https://hook:hunter2@hooks.example.com/sms"],
      ["VERIFYD_EMAIL_WEBHOOK_URL", "ftp://hooks.example.com/email?token=tok-5ecret"],
      ["VERIFYD_TWILIO_BASE_URL", "https://user:hunter2@api.twilio.example"],
    ] as const) {
      const message = refusal([], { [name]: url, VERIFYD_WEBHOOK_SECRET: secret });
      expect(message).toContain(name);
      expect(message).not.toContain("hunter2");
      expect(message).not.toContain("tok-5ecret");
    }
  });

  it("refuses a malformed or short secret without repeating it", () => {
    const short = `whsec_${randomBytes(16).toString("base64")}`;
    for (const bad of [short, secret.slice("whsec_".length), `${secret}!`]) {
      const message = refusal([], { VERIFYD_SMS_WEBHOOK_URL: "https://hooks.example.com/sms", VERIFYD_WEBHOOK_SECRET: bad });
      expect(message).toMatch(/--webhook-secret \/ VERIFYD_WEBHOOK_SECRET: must/);
      expect(message).not.toContain(bad);
    }
  });

  it("takes only http(s) URLs without credentials", () => {
    for (const url of ["ftp://hooks.example.com/sms", "hooks.example.com/sms", "https://user:pass@hooks.example.com/sms"]) {
      expect(refusal([], { VERIFYD_SMS_WEBHOOK_URL: url, VERIFYD_WEBHOOK_SECRET: secret })).toMatch(/--sms-webhook-url \/ VERIFYD_SMS_WEBHOOK_URL: must/);
    }
  });

  it("refuses in production cleartext beyond loopback and a secret given as a flag", () => {
    const env = { VERIFYD_PRODUCTION: "true", VERIFYD_WEBHOOK_SECRET: secret };
    expect(refusal([], { ...env, VERIFYD_SMS_WEBHOOK_URL: "http://hooks.example.com/sms" })).toMatch(
      /--sms-webhook-url \/ VERIFYD_SMS_WEBHOOK_URL: http:\/\/ to hooks.example.com carries codes in cleartext/,
    );
    const flagged = refusal(["--webhook-secret", secret], { VERIFYD_PRODUCTION: "true", VERIFYD_SMS_WEBHOOK_URL: "https://hooks.example.com/sms" });
    expect(flagged).toMatch(/--webhook-secret: a secret on the command line/);
    expect(flagged).not.toContain(secret);
    const complete = { ...env, ...productionEnv, VERIFYD_SEND_CHANNELS: "phone" };
    expect(() => loadConfig([], { ...complete, VERIFYD_SMS_WEBHOOK_URL: "http://127.0.0.1:9000/sms" })).not.toThrow();
  });
});
