// The Twilio, SMTP and send-channel settings: what is accepted, what is refused (never repeating a secret), one
// provider per channel, and what production refuses on top.
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.js";
import { productionEnv } from "../helpers/production-settings.js";

const authToken = "f00dfeedcafebabe0123456789abcdef";
const twilio = { TWILIO_ACCOUNT_SID: "AC0123456789abcdef0123456789abcdef", TWILIO_AUTH_TOKEN: authToken, TWILIO_FROM: "+15005550006" };
const smtp = { VERIFYD_SMTP_URL: "smtps://mailer:s3cret%2Fpass@smtp.example.com", VERIFYD_EMAIL_FROM: "Acme <no-reply@acme.example>" };

const refusal = (env: NodeJS.ProcessEnv, argv: string[] = []): string => {
  try {
    loadConfig(argv, env);
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error("the configuration was accepted");
};

describe("Twilio settings", () => {
  it("reads the account, the token and the sender from the environment", () => {
    const { delivery } = loadConfig([], twilio);
    expect(delivery.twilio).toEqual({
      accountSid: twilio.TWILIO_ACCOUNT_SID,
      authToken,
      sender: { from: "+15005550006" },
      baseUrl: new URL("https://api.twilio.com"),
    });
    const service = { ...twilio, TWILIO_FROM: "", TWILIO_MESSAGING_SERVICE_SID: "MG00112233445566778899aabbccddeeff" };
    expect(loadConfig([], service).delivery.twilio?.sender).toEqual({ messagingServiceSid: "MG00112233445566778899aabbccddeeff" });
    expect(loadConfig([], { ...twilio, TWILIO_FROM: "Acme" }).delivery.twilio?.sender).toEqual({ from: "Acme" });
  });

  it("needs the token with the account, and exactly one sender", () => {
    expect(refusal({ ...twilio, TWILIO_AUTH_TOKEN: "" })).toMatch(/Twilio needs --twilio-account-sid \/ TWILIO_ACCOUNT_SID and --twilio-auth-token/);
    expect(refusal({ ...twilio, TWILIO_FROM: "" })).toMatch(/Twilio needs a sender: --twilio-from \/ TWILIO_FROM or --twilio-messaging-service-sid/);
    expect(refusal({ ...twilio, TWILIO_MESSAGING_SERVICE_SID: "MG00112233445566778899aabbccddeeff" })).toMatch(
      /Twilio sends from one sender; give --twilio-from \/ TWILIO_FROM or --twilio-messaging-service-sid \/ TWILIO_MESSAGING_SERVICE_SID, not both/,
    );
  });

  it("refuses malformed values, without repeating the token", () => {
    expect(refusal({ ...twilio, TWILIO_ACCOUNT_SID: "SK0123" })).toMatch(/TWILIO_ACCOUNT_SID: must be a Twilio Account SID: AC and 32 hexadecimal characters/);
    expect(refusal({ ...twilio, TWILIO_FROM: "0791234567" })).toMatch(/TWILIO_FROM: must be a number of the account in E\.164/);
    const badToken = `${authToken}x`;
    const message = refusal({ ...twilio, TWILIO_AUTH_TOKEN: badToken });
    expect(message).toMatch(/TWILIO_AUTH_TOKEN: must be the account's auth token/);
    expect(message).not.toContain(badToken);
  });

  it("refuses Twilio and an SMS webhook together", () => {
    const webhook = { VERIFYD_SMS_WEBHOOK_URL: "https://hooks.example.com/sms", VERIFYD_WEBHOOK_SECRET: `whsec_${Buffer.alloc(32, 1).toString("base64")}` };
    expect(refusal({ ...twilio, ...webhook })).toMatch(/SMS has two providers, Twilio .* and --sms-webhook-url \/ VERIFYD_SMS_WEBHOOK_URL; keep one/);
  });
});

describe("SMTP settings", () => {
  it("reads the server, the decoded credentials and the sender", () => {
    expect(loadConfig([], smtp).delivery.smtp).toEqual({
      server: { host: "smtp.example.com", port: 465, implicitTls: true, auth: { user: "mailer", pass: "s3cret/pass" } },
      requireStartTls: false,
      from: { name: "Acme", address: "no-reply@acme.example" },
    });
    const starttls = loadConfig([], { ...smtp, VERIFYD_SMTP_URL: "smtp://[::1]:2525", VERIFYD_SMTP_REQUIRE_STARTTLS: "true" });
    expect(starttls.delivery.smtp).toMatchObject({ server: { host: "::1", port: 2525, implicitTls: false }, requireStartTls: true });
    expect(loadConfig([], { ...smtp, VERIFYD_SMTP_URL: "smtp://relay.internal" }).delivery.smtp?.server).toEqual({
      host: "relay.internal",
      port: 587,
      implicitTls: false,
    });
  });

  it("refuses malformed URLs without repeating them (they carry the password)", () => {
    for (const url of ["https://mailer:hunter22@smtp.example.com", "smtp://mailer:hunter22@smtp.example.com/path", "smtp://:hunter22@smtp.example.com"]) {
      const message = refusal({ ...smtp, VERIFYD_SMTP_URL: url });
      expect(message).toMatch(/--smtp-url \/ VERIFYD_SMTP_URL: (must|has)/);
      expect(message).not.toContain("hunter22");
    }
    // An smtps:// URL that no URL parser takes is not told to be an smtps:// URL: it says what to look at.
    for (const url of ["smtps://mailer:hunter22@smtp.example.com:99999", "smtps://mailer:hunter22@smtp.example.com:abc", "smtp://mailer:hun/ter22@smtp.example.com"]) {
      const message = refusal({ ...smtp, VERIFYD_SMTP_URL: url });
      expect(message).toMatch(/--smtp-url \/ VERIFYD_SMTP_URL: is not a valid URL: the port must be a number up to 65535/);
      expect(message).not.toContain("hunter22");
    }
  });

  it("needs a sender with the server, and a server for the SMTP-only settings", () => {
    expect(refusal({ ...smtp, VERIFYD_EMAIL_FROM: "" })).toMatch(/--smtp-url \/ VERIFYD_SMTP_URL needs --email-from \/ VERIFYD_EMAIL_FROM/);
    expect(refusal({ ...smtp, VERIFYD_EMAIL_FROM: "a@b.example, c@d.example" })).toMatch(/--email-from \/ VERIFYD_EMAIL_FROM: must be one address/);
    // What the address parser would mend into a sender nobody wrote (noted by an email trial).
    expect(refusal({ ...smtp, VERIFYD_EMAIL_FROM: "Acme <no-reply@acme.example" })).toMatch(/--email-from \/ VERIFYD_EMAIL_FROM: must be an address, or a name and <address>/);
    expect(refusal({ ...smtp, VERIFYD_EMAIL_FROM: "Acme\r\nBcc: x@y.example <a@b.example>" })).toMatch(/must be one line/);
    expect(refusal({ ...smtp, VERIFYD_EMAIL_FROM: '"boss@bank.example" <a@b.example>' })).toMatch(/must have a name without "@"/);
    expect(refusal({ VERIFYD_EMAIL_FROM: smtp.VERIFYD_EMAIL_FROM })).toMatch(/--email-from \/ VERIFYD_EMAIL_FROM is set but no SMTP server is/);
    expect(refusal({ VERIFYD_SMTP_REQUIRE_STARTTLS: "true" })).toMatch(/--smtp-require-starttls \/ VERIFYD_SMTP_REQUIRE_STARTTLS is set but no SMTP server is/);
  });

  it("refuses SMTP and an email webhook together", () => {
    const webhook = { VERIFYD_EMAIL_WEBHOOK_URL: "https://hooks.example.com/email", VERIFYD_WEBHOOK_SECRET: `whsec_${Buffer.alloc(32, 1).toString("base64")}` };
    expect(refusal({ ...smtp, ...webhook })).toMatch(/email has two providers, --smtp-url \/ VERIFYD_SMTP_URL and --email-webhook-url/);
  });
});

describe("--send-channels", () => {
  it("takes phone, email, both, or none", () => {
    expect(loadConfig([], {}).delivery.sendChannels).toEqual(["phone", "email"]);
    expect(loadConfig(["--send-channels", "email"], {}).delivery.sendChannels).toEqual(["email"]);
    expect(loadConfig([], { VERIFYD_SEND_CHANNELS: "none" }).delivery.sendChannels).toEqual([]);
    expect(refusal({ VERIFYD_SEND_CHANNELS: "phone,fax" })).toMatch(/--send-channels \/ VERIFYD_SEND_CHANNELS: must be "phone", "email"/);
  });
});

describe("production mode", () => {
  const production = { ...productionEnv, VERIFYD_PRODUCTION: "true", ...twilio, ...smtp };

  it("starts with Twilio and SMTP from the environment", () => {
    expect(loadConfig([], production).warnings).toEqual([]);
    const loopback = { ...production, VERIFYD_SMTP_URL: "smtp://127.0.0.1:25", VERIFYD_TWILIO_BASE_URL: "http://127.0.0.1:9000" };
    expect(loadConfig([], loopback).warnings).toEqual([]);
  });

  it("refuses Twilio's API over http:// beyond loopback", () => {
    expect(refusal({ ...production, VERIFYD_TWILIO_BASE_URL: "http://twilio-proxy.internal" })).toMatch(
      /--twilio-base-url \/ VERIFYD_TWILIO_BASE_URL: http:\/\/ to twilio-proxy\.internal carries codes in cleartext; use https:\/\/; refused with --production/,
    );
  });

  it("takes smtp:// beyond loopback only with --smtp-require-starttls", () => {
    const cleartext = { ...production, VERIFYD_SMTP_URL: "smtp://mailer:s3cret@smtp.example.com:587" };
    expect(refusal(cleartext)).toMatch(/smtp:\/\/ to smtp\.example\.com sends codes \(and the password\) in cleartext unless the server offers STARTTLS/);
    expect(() => loadConfig([], { ...cleartext, VERIFYD_SMTP_REQUIRE_STARTTLS: "true" })).not.toThrow();
  });
});
