// Messages as people receive them, through the public API and the signed webhook to a recording receiver: in the
// person's language with the WebOTP line, from an operator's templates directory, email with text and escaped HTML,
// and the notice to a verified phone number or address that a change replaces or removes (OWASP ASVS V2.5).
import { execFileSync } from "node:child_process";
import { mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { WebhookPayload } from "../../src/delivery/webhook/webhook-payload.js";
import type { JsonObject } from "@bufbuild/protobuf";
import { type MethodName, protocolClient } from "../helpers/protocol-clients.js";
import { runServerProcessToExit, serverProcessDirectories, startServerProcess } from "../helpers/server-process.js";
import { type TestServer, startTestServer } from "../helpers/test-server.js";
import { type WebhookReceiver, startWebhookReceiver } from "../helpers/webhook-receiver.js";

const appName = "Tom & Jerry's";
const webOtpHost = "verify.example.com";

let receiver: WebhookReceiver;
/** Shipped templates, default language English. */
let shipped: TestServer;
/** An operator's templates directory: English SMS replaced, French added; default language German. */
let overridden: TestServer;
/** Fresh directories, removed after the file (and server processes stopped after each test). */
const newDirectory = serverProcessDirectories("verifyd-templates-");

function templatesDirectory(files: Record<string, string>): string {
  const directory = newDirectory();
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(join(directory, path, ".."), { recursive: true });
    writeFileSync(join(directory, path), content);
  }
  return directory;
}

beforeAll(async () => {
  receiver = await startWebhookReceiver();
  const delivery = ["--sms-webhook-url", `${receiver.url}/sms`, "--email-webhook-url", `${receiver.url}/email`, "--webhook-secret", receiver.secret];
  // Delivered only by deliveredBy(): a message the worker sent between two calls could not be superseded by the second.
  const options = { configuredDelivery: true, deliverOnRunOnceOnly: true };
  shipped = await startTestServer([...delivery, "--app-name", appName, "--webotp-host", webOtpHost], options);
  const directory = templatesDirectory({
    "en/sms-code.txt": "{{code}} is your {{app_name}} code. Valid for {{lifetime}}.\n",
    "fr/sms-code.txt": "Votre code {{app_name}} : {{code}}. Il est valable {{lifetime}}.\n",
  });
  overridden = await startTestServer([...delivery, "--templates-dir", directory, "--default-language", "de", "--app-name", "Acme"], options);
});

afterAll(async () => {
  await shipped?.close();
  await overridden?.close();
  await receiver?.close();
});

beforeEach(() => receiver.reset());

const client = (server: TestServer) => protocolClient("rest", server.url, server.adminToken);

async function call(server: TestServer, method: MethodName, request: JsonObject): Promise<JsonObject> {
  const answer = await client(server).call(method, request);
  if (!answer.ok) throw new Error(`${method}: ${answer.message}`);
  return answer.body;
}

async function addUser(server: TestServer, contact: JsonObject, preferredLanguage?: string): Promise<string> {
  const profile = { givenName: "Ada", familyName: "Lovelace", ...(preferredLanguage ? { preferredLanguage } : {}) };
  return (await call(server, "addHumanUser", { profile, ...contact })).userId as string;
}

/** Runs the server's outbox once and returns what the receiver got, verified as a receiver verifies it. */
async function deliveredBy(server: TestServer): Promise<WebhookPayload["data"][]> {
  await server.outbox.runOnce();
  return receiver.received.map((request) => receiver.verify(request).data);
}

async function onlyDeliveryBy(server: TestServer): Promise<WebhookPayload["data"]> {
  const delivered = await deliveredBy(server);
  expect(delivered).toHaveLength(1);
  return delivered[0] as WebhookPayload["data"];
}

describe("SMS codes", () => {
  it("reach a German-speaking person in German, ending with the WebOTP line, and the code verifies", async () => {
    const userId = await addUser(shipped, { phone: { phone: "+41791240001", sendCode: {} } }, "de-CH");
    const sms = await onlyDeliveryBy(shipped);
    const code = /\n\n@verify\.example\.com #(\d{6})$/.exec(sms.text)?.[1];
    expect(sms).toMatchObject({ channel: "phone", purpose: "code", to: "+41791240001" });
    expect(sms.text).toBe(
      `Ihr Bestätigungscode für ${appName} lautet ${code}. Er ist 10 Minuten gültig. Geben Sie ihn nicht weiter.\n\n@${webOtpHost} #${code}`,
    );
    expect(sms).not.toHaveProperty("html");
    await call(shipped, "verifyPhone", { userId, verificationCode: code as string });
  });

  it("reach a person whose language has no templates in the default language", async () => {
    await addUser(shipped, { phone: { phone: "+41791240002", sendCode: {} } }, "ja");
    expect((await onlyDeliveryBy(shipped)).text).toMatch(
      new RegExp(`^Your ${appName} verification code is (\\d{6})\\. It expires in 10 minutes\\. Do not share it\\.\\n\\n@verify\\.example\\.com #\\1$`),
    );
  });

  it("follow an operator's templates directory: a replaced text, an added language, another default language", async () => {
    await addUser(overridden, { phone: { phone: "+41791240003", sendCode: {} } }, "en-GB");
    expect((await onlyDeliveryBy(overridden)).text).toMatch(/^\d{6} is your Acme code\. Valid for 10 minutes\.$/);
    receiver.reset();
    await addUser(overridden, { phone: { phone: "+41791240004", sendCode: {} } }, "fr-CH");
    expect((await onlyDeliveryBy(overridden)).text).toMatch(/^Votre code Acme : \d{6}\. Il est valable 10 minutes\.$/);
    receiver.reset();
    await addUser(overridden, { phone: { phone: "+41791240005", sendCode: {} } });
    expect((await onlyDeliveryBy(overridden)).text).toMatch(/^Ihr Bestätigungscode für Acme lautet \d{6}\./);
  });
});

describe("email codes", () => {
  it("have a subject, a text and an HTML part, with every value escaped in the HTML", async () => {
    const urlTemplate = "https://app.example.com/verify?user={{.UserID}}&code={{.Code}}";
    const userId = await addUser(shipped, { email: { email: "ada@example.com", sendCode: { urlTemplate } } });
    const email = await onlyDeliveryBy(shipped);
    const code = /verification code is (\d{6})\./.exec(email.text)?.[1] as string;
    const link = `https://app.example.com/verify?user=${userId}&code=${code}`;
    expect(email).toMatchObject({ channel: "email", purpose: "code", to: "ada@example.com", subject: "Verify your email address" });
    expect(email.text).toBe(
      `Your ${appName} verification code is ${code}. It expires in 10 minutes.\n\n` +
        `Or open this link to verify your address: ${link}\n\nIf you did not ask for it, ignore this message.`,
    );
    expect(email.html).toContain("<p>Your Tom &amp; Jerry&#39;s verification code is:</p>");
    expect(email.html).toContain(`>${code}</p>`);
    expect(email.html).toContain(`<a href="${link.replace("&", "&amp;")}">`);
    expect(email.html).not.toContain(appName);
    await call(shipped, "verifyEmail", { userId, verificationCode: code });
  });
});

describe("the notice to a replaced contact", () => {
  it("goes to the verified number when it is changed, besides the code to the new one, and both arrive", async () => {
    const userId = await addUser(shipped, { phone: { phone: "+41791240010", isVerified: true } }, "de");
    await call(shipped, "setPhone", { userId, phone: "+41791240011", sendCode: {} });
    const delivered = await deliveredBy(shipped);

    expect(delivered.map(({ to, purpose }) => ({ to, purpose }))).toEqual(
      expect.arrayContaining([
        { to: "+41791240010", purpose: "contact-changed" },
        { to: "+41791240011", purpose: "code" },
      ]),
    );
    expect(delivered).toHaveLength(2);
    const notice = delivered.find((message) => message.purpose === "contact-changed");
    expect(notice?.text).toBe(
      `Die Telefonnummer Ihres Kontos bei ${appName} wurde geändert. Falls Sie das nicht waren, wenden Sie sich sofort an den Support.`,
    );
    expect(notice?.text).not.toMatch(/\d{6}|40011/);
    const code = /#(\d{6})$/.exec(delivered.find((message) => message.purpose === "code")?.text ?? "")?.[1] as string;
    await call(shipped, "verifyPhone", { userId, verificationCode: code });
  });

  it("is not wiped by a new code for the new number, as a waiting code is", async () => {
    const userId = await addUser(shipped, { phone: { phone: "+41791240020", isVerified: true } });
    await call(shipped, "setPhone", { userId, phone: "+41791240021", sendCode: {} });
    shipped.clock.advance(60_000);
    await call(shipped, "resendPhoneCode", { userId, sendCode: {} });
    const delivered = await deliveredBy(shipped);
    expect(delivered.map(({ to, purpose }) => `${purpose} ${to}`).sort()).toEqual(["code +41791240021", "contact-changed +41791240020"]);
  });

  it("goes to the verified number when it is replaced by a verified one or removed, and to a replaced address", async () => {
    const userId = await addUser(shipped, { phone: { phone: "+41791240030", isVerified: true }, email: { email: "old@example.com", isVerified: true } });
    await call(shipped, "setPhone", { userId, phone: "+41791240031", isVerified: true });
    await call(shipped, "removePhone", { userId });
    await call(shipped, "setEmail", { userId, email: "new@example.com", returnCode: {} });
    const delivered = await deliveredBy(shipped);
    expect(delivered.map(({ to, purpose }) => `${purpose} ${to}`).sort()).toEqual([
      "contact-changed +41791240030",
      "contact-changed +41791240031",
      "contact-changed old@example.com",
    ]);
    const email = delivered.find((message) => message.to === "old@example.com");
    expect(email).toMatchObject({ subject: `The email address of your ${appName} account was changed` });
    expect(email?.html).toContain("<p>The email address of your Tom &amp; Jerry&#39;s account was changed.</p>");
  });

  it("is not sent for a first number, a number never verified, or a change back to the verified number", async () => {
    const userId = await addUser(shipped, { phone: { phone: "+41791240040", returnCode: {} } });
    await call(shipped, "setPhone", { userId, phone: "+41791240041", returnCode: {} });
    const verifiedUser = await addUser(shipped, { phone: { phone: "+41791240042", isVerified: true } });
    await call(shipped, "setPhone", { userId: verifiedUser, phone: "+41791240043", returnCode: {} });
    await deliveredBy(shipped);
    receiver.reset();
    await call(shipped, "setPhone", { userId: verifiedUser, phone: "+41791240042", returnCode: {} });
    await call(shipped, "removePhone", { userId });
    expect(await deliveredBy(shipped)).toEqual([]);
  });
});

describe("a templates directory that leaves messages to others", () => {
  it("says at start which messages a language lacks and which shipped files stay beside replaced ones (noted by an email trial)", async () => {
    const directory = templatesDirectory({
      "ja/sms-code.txt": "{{app_name}} の確認コードは {{code}} です。",
      "de/email-code.txt": "Ihr Code: {{code}}",
    });
    const server = await startServerProcess(join(newDirectory(), "verifyd.sqlite"), { args: ["--templates-dir", directory] });
    const notices = server.stderr
      .filter((line) => line.includes('"message templates left to others"'))
      .map((line) => (JSON.parse(line) as { notice: string }).notice);
    await server.stop();
    expect(notices).toEqual([
      `--templates-dir ${directory}: de: keeps the shipped email-code.subject.txt, email-code.html beside the files it replaces`,
      `--templates-dir ${directory}: ja: has no sms-contact-changed, email-code, email-contact-changed; those go out in en`,
    ]);
  });
});

describe("a templates directory with a mistake", () => {
  it("stops the start with one line naming the file", async () => {
    const directory = templatesDirectory({ "de/email-code.html": "<p>{{app_name}}</p>" });
    const database = join(newDirectory(), "verifyd.sqlite");
    const exit = await runServerProcessToExit(database, ["--templates-dir", directory]);
    const plain = exit.stderr.filter((line) => !line.startsWith("{"));
    expect(exit.code, exit.stderr.join("\n")).toBe(2);
    expect(plain).toEqual([
      `verifyd: --templates-dir ${directory}: de/email-code.html: never shows {{code}} (outside a {{#…}} section), so the person would get no code`,
    ]);
    // Refused before the store is opened: nothing to clean up, and the next start may still choose its keys.
    expect(readdirSync(join(database, ".."))).toEqual([]);
  });

  it("and a default language without templates leave no database or keyring behind either", async () => {
    const database = join(newDirectory(), "verifyd.sqlite");
    const exit = await runServerProcessToExit(database, ["--default-language", "xx"]);
    expect(exit.code, exit.stderr.join("\n")).toBe(2);
    expect(exit.stderr.filter((line) => !line.startsWith("{"))).toEqual([
      "verifyd: --default-language xx: no templates in this language (there are: en, de)",
    ]);
    expect(readdirSync(join(database, ".."))).toEqual([]);
  });

  it.each([
    ["a NUL", "en/sms-code.txt", "Your code: {{code}}\n\0\n", "line 2 holds the control character U+0000; an SMS holds none but line breaks"],
    ["a tab in an SMS", "en/sms-code.txt", "Your code:\t{{code}}", "line 1 holds the control character U+0009; an SMS holds none but line breaks"],
    [
      "an escape in an email",
      "de/email-code.html",
      "<p>\n  {{code}}\n</p>\u001b[0m",
      "line 3 holds the control character U+001B; an email holds none but line breaks and tabs",
    ],
    ["2 MiB", "en/sms-code.txt", `{{code}} ${"a".repeat(2 * 1024 * 1024)}`, "is larger than 64 KiB (2097161 bytes), the most a template may hold"],
  ])("refuses a template with %s, naming the file (noted by a hostile trial)", async (_, file, content, problem) => {
    const directory = templatesDirectory({ [file]: content });
    const exit = await runServerProcessToExit(join(newDirectory(), "verifyd.sqlite"), ["--templates-dir", directory], { timeoutMs: 10_000 });
    expect(exit.code, exit.stderr.join("\n")).toBe(2);
    expect(exit.stderr.filter((line) => !line.startsWith("{"))).toEqual([`verifyd: --templates-dir ${directory}: ${file}: ${problem}`]);
  });

  it("refuses a named pipe in place of a template at once, rather than waiting for a writer (noted by a hostile trial)", async () => {
    const directory = templatesDirectory({});
    mkdirSync(join(directory, "en"));
    execFileSync("mkfifo", [join(directory, "en", "sms-code.txt")]);
    const exit = await runServerProcessToExit(join(newDirectory(), "verifyd.sqlite"), ["--templates-dir", directory], { timeoutMs: 10_000 });
    expect(exit.code, exit.stderr.join("\n")).toBe(2);
    expect(exit.stderr.filter((line) => !line.startsWith("{"))).toEqual([
      `verifyd: --templates-dir ${directory}: en/sms-code.txt: is a named pipe (FIFO), not a regular file`,
    ]);
  });
});
