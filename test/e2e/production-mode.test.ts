// Production mode as an operator meets it: `npm start -- --production` with an unsafe setting does not start, and
// names the setting; without --production the same setting starts the server with a warning. Nor does it start
// without what production needs: VERIFYD_KEYS, and a provider for every channel whose codes are sent.
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { productionKeys } from "../helpers/production-settings.js";
import { runServerProcessToExit, serverProcessDirectories, startServerProcess } from "../helpers/server-process.js";

const tempDirectory = serverProcessDirectories("verifyd-production-");
const database = join(tempDirectory(), "verifyd.sqlite");
const keys = productionKeys;

/** A provider for each channel, as the README configures them; nothing is sent at start. */
const twilio = {
  TWILIO_ACCOUNT_SID: "AC0123456789abcdef0123456789abcdef",
  TWILIO_AUTH_TOKEN: "f00dfeedcafebabe0123456789abcdef",
  TWILIO_FROM: "+15005550006",
};
const smtp = { VERIFYD_SMTP_URL: "smtps://verifyd:secret-password@smtp.example.com", VERIFYD_EMAIL_FROM: "Acme <no-reply@acme.example>" };
const providers = { ...twilio, ...smtp };

describe("production mode", () => {
  it("refuses unsafe settings with one line each and exit code 2", async () => {
    const run = await runServerProcessToExit(database, ["--production", "--cors-origins", "*", "--failure-lockout", "0s"], {
      env: { VERIFYD_KEYS: keys },
    });
    expect(run.code).toBe(2);
    const output = run.stderr.join("\n");
    expect(output).toMatch(/--cors-origins \/ VERIFYD_CORS_ORIGINS: .*refused with --production/);
    expect(output).toMatch(/--failure-lockout \/ VERIFYD_FAILURE_LOCKOUT: .*refused with --production/);
    expect(output).not.toMatch(/^\s+at /m);
  });

  it("refuses a start without VERIFYD_KEYS: the keyring file beside the database is for development", async () => {
    const run = await runServerProcessToExit(database, ["--production"], { env: providers });
    expect(run.code).toBe(2);
    expect(run.stderr.join("\n")).toMatch(/VERIFYD_KEYS: production takes its keys from the environment/);
    expect(run.stderr.join("\n")).not.toMatch(/send-channels/);
  });

  it("refuses a channel whose codes send_code asks for but no provider delivers, naming the channel and the settings", async () => {
    const run = await runServerProcessToExit(database, ["--production"], { env: { VERIFYD_KEYS: keys, ...twilio } });
    expect(run.code).toBe(2);
    const output = run.stderr.join("\n");
    expect(output).toMatch(/--send-channels \/ VERIFYD_SEND_CHANNELS: email codes are sent, but no provider delivers them; configure VERIFYD_SMTP_URL or VERIFYD_EMAIL_WEBHOOK_URL/);
    expect(output).not.toMatch(/phone codes are sent/);
    expect(output).not.toMatch(/^\s+at /m);
  });

  it("starts with keys and a provider for each channel, or with only the channels that have one", async () => {
    const server = await startServerProcess(database, { args: ["--production"], env: { VERIFYD_KEYS: keys, ...providers } });
    await server.stop();
    const phoneOnly = await startServerProcess(database, { args: ["--production", "--send-channels", "phone"], env: { VERIFYD_KEYS: keys, ...twilio } });
    await phoneOnly.stop();
  });

  it("refuses secrets on the command line and SMTP in cleartext beyond loopback", async () => {
    const run = await runServerProcessToExit(
      database,
      ["--production", "--twilio-auth-token", twilio.TWILIO_AUTH_TOKEN, "--smtp-url", "smtp://verifyd:secret-password@smtp.example.com"],
      { env: { ...providers, VERIFYD_KEYS: keys } },
    );
    expect(run.code).toBe(2);
    const output = run.stderr.join("\n");
    expect(output).toMatch(/--twilio-auth-token: a secret on the command line .*use TWILIO_AUTH_TOKEN; refused with --production/);
    expect(output).toMatch(/--smtp-url: a password on the command line .*use VERIFYD_SMTP_URL; refused with --production/);
    expect(output).toMatch(/--smtp-url \/ VERIFYD_SMTP_URL: smtp:\/\/ to smtp\.example\.com sends codes \(and the password\) in cleartext/);
    expect(output).not.toContain(twilio.TWILIO_AUTH_TOKEN);
    expect(output).not.toContain("secret-password");
  });

  it("starts in development with the same settings and warns about each", async () => {
    const server = await startServerProcess(database, { args: ["--cors-origins", "*"], env: { VERIFYD_KEYS: keys } });
    const warning = server.stderr.find((line) => line.includes("--cors-origins"));
    expect(warning && JSON.parse(warning)).toMatchObject({ level: "warn" });
    await server.stop();
  });
});
