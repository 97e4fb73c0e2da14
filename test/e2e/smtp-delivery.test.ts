// Email through SMTP, against a real SMTP server started in the test (the smtp-server package) with a self-signed
// certificate, which verifyd trusts through --smtp-ca-file: a code asked for with send_code arrives over a connection
// upgraded with STARTTLS, after a login with the URL's user and password, from VERIFYD_EMAIL_FROM, with a text and
// an HTML part, and the code in it verifies. A 450 is retried with the same Message-ID; a 550 or 553, refused
// credentials, or a refused STARTTLS (when required) reach the server once and never again; nothing goes in cleartext.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SMTPServer, type SMTPServerOptions } from "smtp-server";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type EmailMessage, parseEmail } from "../helpers/email-message.js";
import { protocolClient } from "../helpers/protocol-clients.js";
import { type TestServer, startTestServer } from "../helpers/test-server.js";
import { createTestCertificate } from "../helpers/tls-cert.js";
import { openLiveDatabase } from "../helpers/live-database.js";

/** One mail transaction as the SMTP server saw it; `raw` once the message was accepted. */
interface Transaction {
  /** The connection's id: one pooled connection carries several transactions. */
  connection: string;
  /** Whether the connection had been upgraded with STARTTLS before the transaction. */
  secure: boolean;
  user: string | undefined;
  mailFrom: string;
  rcptTo: string;
  raw?: string;
}

/** A refusal the server gives the next transaction: at RCPT TO (the mailbox) or after DATA (the message). */
interface Refusal {
  at: "rcpt" | "data";
  code: number;
  text: string;
}

interface FakeSmtp {
  port: number;
  transactions: Transaction[];
  refusals: Refusal[];
  /** Connections opened so far, and logins tried. */
  connections: number;
  logins: number;
  close(): Promise<void>;
}

const user = "verifyd";
// Characters a URL must percent-encode, so that the test shows the user name and password are decoded.
const password = "p@ss w/rd:1";
const from = "Acme <no-reply@acme.example>";
const profile = { givenName: "Ada", familyName: "Lovelace" };

function refusalError(refusal: Refusal): Error {
  return Object.assign(new Error(refusal.text), { responseCode: refusal.code });
}

async function startFakeSmtp(options: Partial<SMTPServerOptions>): Promise<FakeSmtp> {
  const fake: FakeSmtp = {
    port: 0,
    transactions: [],
    refusals: [],
    connections: 0,
    logins: 0,
    close: async () => undefined,
  };
  const refusalAt = (at: Refusal["at"]) => (fake.refusals[0]?.at === at ? fake.refusals.shift() : undefined);
  const server = new SMTPServer({
    logger: false,
    authMethods: ["PLAIN", "LOGIN"],
    onConnect(_session, callback) {
      fake.connections++;
      callback();
    },
    onAuth(auth, _session, callback) {
      fake.logins++;
      if (auth.username === user && auth.password === password) callback(null, { user: auth.username });
      else callback(Object.assign(new Error("Authentication credentials invalid"), { responseCode: 535 }));
    },
    onRcptTo(address, session, callback) {
      const refusal = refusalAt("rcpt");
      fake.transactions.push({
        connection: session.id,
        secure: session.secure,
        user: session.user as string | undefined,
        mailFrom: session.envelope.mailFrom ? session.envelope.mailFrom.address : "",
        rcptTo: address.address,
      });
      callback(refusal ? refusalError(refusal) : null);
    },
    onData(stream, _session, callback) {
      const chunks: Buffer[] = [];
      stream.on("data", (chunk: Buffer) => chunks.push(chunk));
      stream.on("end", () => {
        const refusal = refusalAt("data");
        const transaction = fake.transactions.at(-1) as Transaction;
        if (refusal) return callback(refusalError(refusal));
        transaction.raw = Buffer.concat(chunks).toString("utf8");
        callback();
      });
    },
    ...options,
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  fake.port = (server.server.address() as AddressInfo).port;
  fake.close = () => new Promise<void>((resolve) => server.close(() => resolve()));
  return fake;
}

let certificate: { cert: string; key: string };
let caFile: string;
const directory = mkdtempSync(join(tmpdir(), "verifyd-smtp-"));

beforeAll(async () => {
  certificate = await createTestCertificate();
  caFile = join(directory, "ca.pem");
  writeFileSync(caFile, certificate.cert);
});

afterAll(() => rmSync(directory, { recursive: true, force: true }));

/** A server delivering email through `smtp`, configured through the environment as the README shows. */
function startServerWithSmtp(smtp: FakeSmtp, withPassword = password): Promise<TestServer> {
  return startTestServer(["--delivery-timeout", "2s"], {
    configuredDelivery: true,
    env: {
      VERIFYD_SMTP_URL: `smtp://${user}:${encodeURIComponent(withPassword)}@127.0.0.1:${smtp.port}`,
      VERIFYD_SMTP_REQUIRE_STARTTLS: "true",
      VERIFYD_SMTP_CA_FILE: caFile,
      VERIFYD_EMAIL_FROM: from,
    },
  });
}

async function addUserWithEmail(server: TestServer, email: string): Promise<string> {
  const added = await protocolClient("rest", server.url, server.adminToken).call("addHumanUser", { profile, email: { email, sendCode: {} } });
  if (!added.ok) throw new Error(added.message);
  return added.body.userId as string;
}

/** The id of the user's message in the outbox, from which the Message-ID is derived. */
function outboxId(server: TestServer, userId: string): string {
  const db = openLiveDatabase(join(server.dataDir, "verifyd.sqlite"), { readonly: true });
  try {
    return (db.prepare("SELECT id FROM outbox WHERE user_id = ?").get(userId) as { id: string }).id;
  } finally {
    db.close();
  }
}

const accepted = (smtp: FakeSmtp): EmailMessage[] =>
  smtp.transactions.flatMap((transaction) => (transaction.raw === undefined ? [] : [parseEmail(transaction.raw)]));

const codeIn = (email: EmailMessage): string => /code is (\w+)/.exec(email.parts.get("text/plain") ?? "")?.[1] ?? "";

describe("SMTP delivery", () => {
  let smtp: FakeSmtp;
  let server: TestServer;

  beforeAll(async () => {
    smtp = await startFakeSmtp({ key: certificate.key, cert: certificate.cert });
    server = await startServerWithSmtp(smtp);
  });

  afterAll(async () => {
    await server.close();
    await smtp.close();
  });

  beforeEach(() => {
    smtp.transactions.length = 0;
    smtp.refusals.length = 0;
  });

  /** Past the worker's back-off after a failure (1 s, doubling), so that its next run retries. */
  const pastBackOff = () => server.clock.advance(60_000);

  it("sends an email code over STARTTLS after a login, with text and HTML parts, and the code in it verifies", async () => {
    const userId = await addUserWithEmail(server, "ada@example.com");
    await server.outbox.runOnce();

    expect(smtp.transactions).toEqual([
      expect.objectContaining({ secure: true, user, mailFrom: "no-reply@acme.example", rcptTo: "ada@example.com" }),
    ]);
    const [email] = accepted(smtp) as [EmailMessage];
    expect(email.headers.get("from")).toBe(from);
    expect(email.headers.get("to")).toBe("ada@example.com");
    expect(email.headers.get("subject")).toBe("Verify your email address");
    expect(email.headers.get("message-id")).toBe(`<verifyd.${outboxId(server, userId)}@acme.example>`);
    expect(email.headers.get("auto-submitted")).toBe("auto-generated");
    const code = codeIn(email);
    expect(code).toMatch(/^\d{6}$/);
    expect(email.parts.get("text/html")).toContain(`>${code}</p>`);

    const answer = await protocolClient("rest", server.url, server.adminToken).call("verifyEmail", { userId, verificationCode: code });
    expect(answer.ok).toBe(true);
  });

  it("keeps its connection open for the next message", async () => {
    await addUserWithEmail(server, "grace@example.com");
    await server.outbox.runOnce();
    await addUserWithEmail(server, "alan@example.com");
    await server.outbox.runOnce();

    expect(smtp.transactions.map((transaction) => transaction.rcptTo)).toEqual(["grace@example.com", "alan@example.com"]);
    expect(new Set(smtp.transactions.map((transaction) => transaction.connection)).size).toBe(1);
  });

  it("retries a 450 with the same Message-ID", async () => {
    smtp.refusals.push({ at: "data", code: 450, text: "4.2.1 Mailbox busy, try again later" });
    const userId = await addUserWithEmail(server, "ada.busy@example.com");
    await server.outbox.runOnce();
    expect(accepted(smtp)).toHaveLength(0);

    pastBackOff();
    await server.outbox.runOnce();
    expect(smtp.transactions).toHaveLength(2);
    expect(accepted(smtp).map((email) => email.headers.get("message-id"))).toEqual([`<verifyd.${outboxId(server, userId)}@acme.example>`]);

    pastBackOff();
    await server.outbox.runOnce();
    expect(smtp.transactions).toHaveLength(2);
  });

  it.each([
    [550, "5.1.1 Mailbox unavailable"],
    [553, "5.1.3 Mailbox name not allowed"],
  ])("takes a %i for the mailbox as final: no further attempt reaches the server", async (code, text) => {
    smtp.refusals.push({ at: "rcpt", code, text });
    await addUserWithEmail(server, `gone.${code}@example.com`);
    await server.outbox.runOnce();
    pastBackOff();
    await server.outbox.runOnce();
    pastBackOff();
    await server.outbox.runOnce();

    expect(smtp.transactions).toHaveLength(1);
    expect(accepted(smtp)).toHaveLength(0);
  });
});

describe("SMTP delivery with a wrong password", () => {
  it("takes the refused login (535) as final: the server sees one login, then none", async () => {
    const smtp = await startFakeSmtp({ key: certificate.key, cert: certificate.cert });
    const server = await startServerWithSmtp(smtp, "wrong password");
    try {
      await addUserWithEmail(server, "ada@example.com");
      await server.outbox.runOnce();
      server.clock.advance(60_000);
      await server.outbox.runOnce();

      expect(smtp.logins).toBe(1);
      expect(smtp.transactions).toHaveLength(0);
    } finally {
      await server.close();
      await smtp.close();
    }
  });
});

describe("SMTP delivery with --smtp-require-starttls to a server without STARTTLS", () => {
  it("sends nothing in cleartext, and takes the refused STARTTLS as final", async () => {
    // It would take the password in cleartext: the test sees whether verifyd gives it.
    const smtp = await startFakeSmtp({ disabledCommands: ["STARTTLS"], allowInsecureAuth: true });
    const server = await startServerWithSmtp(smtp);
    try {
      await addUserWithEmail(server, "ada@example.com");
      await server.outbox.runOnce();
      server.clock.advance(60_000);
      await server.outbox.runOnce();

      expect(smtp.connections).toBe(1);
      expect(smtp.logins).toBe(0);
      expect(smtp.transactions).toHaveLength(0);
    } finally {
      await server.close();
      await smtp.close();
    }
  });
});
