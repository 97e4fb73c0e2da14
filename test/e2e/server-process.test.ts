// The real server as separate processes (`node --import tsx src/main.ts`): data and keys survive a restart, one
// code is used once even when two processes share the database file, development flags are refused where they
// must be, and no code is ever written to the database, the log or anywhere but the one place meant for it.
import { randomBytes } from "node:crypto";
import { readFileSync, readdirSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { describe, expect, it } from "vitest";
import { uniqueMobile } from "../helpers/api-session.js";
import { type ProtocolClient, protocolClient, expectFailure, expectOk } from "../helpers/protocol-clients.js";
import {
  type ServerProcess,
  runServerProcessToExit,
  startServerProcess,
  serverProcessDirectories,
} from "../helpers/server-process.js";

const tempDirectory = serverProcessDirectories("verifyd-process-");
const tempDatabase = () => join(tempDirectory(), "verifyd.sqlite");

const profile = { givenName: "Ada", familyName: "Lovelace" };
/** Codes long and unusual enough that finding one by chance in a file or a log is impossible. */
const distinctiveCodes = ["--code-length", "16", "--code-alphabet", "ABCDEFGHJKLMNPQRSTUVWXYZ"];



/** A user with its own phone number (a verified number belongs to one user of an organization) and its code. */
async function addUserWithPhoneCode(client: ProtocolClient, phone = uniqueMobile()) {
  const added = expectOk(await client.call("addHumanUser", { profile, phone: { phone, returnCode: {} } }));
  expect(added.phoneCode).toEqual(expect.any(String));
  return { userId: added.userId as string, code: added.phoneCode as string, phone };
}

async function addUserSendingPhoneCode(client: ProtocolClient, phone: string) {
  const added = expectOk(await client.call("addHumanUser", { profile, phone: { phone, sendCode: {} } }));
  expect(added).not.toHaveProperty("phoneCode");
  return added.userId as string;
}

interface DevMessage {
  channel: string;
  to: string;
  subject: string;
  text: string;
}

/** The message --dev-print-codes prints for `to`, and the code in it. */
async function printedMessage(server: ServerProcess, to: string): Promise<{ message: DevMessage; code: string }> {
  const line = await server.waitForStdout((line) => devMessageOf(line)?.to === to);
  const message = devMessageOf(line)!;
  const code = /verification code is (\S+?)\./.exec(message.text)?.[1];
  if (!code) throw new Error(`no code in the printed message: ${message.text}`);
  return { message, code };
}

function devMessageOf(line: string): DevMessage | undefined {
  try {
    return (JSON.parse(line) as { devMessage?: DevMessage }).devMessage;
  } catch {
    return undefined;
  }
}

/** A code as a whole token: a 6-digit code must not count as found inside a longer number. */
function containsCode(text: string, code: string): boolean {
  const escaped = code.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  return new RegExp(`(?<![0-9A-Za-z])${escaped}(?![0-9A-Za-z])`).test(text);
}

function expectNoCodesIn(lines: string[], codes: string[]) {
  const text = lines.join("\n");
  for (const code of codes) expect(containsCode(text, code), `code ${code} in:\n${text}`).toBe(false);
}

describe("restart", () => {
  it("keeps users, codes and the generated keyring: a code issued before a restart verifies after it", async () => {
    const database = tempDatabase();
    const first = await startServerProcess(database);
    const { userId, code, phone } = await addUserWithPhoneCode(protocolClient("connect-json", first.url, first.adminToken));
    expect(await first.stop()).toEqual({ code: 0, signal: null });

    const second = await startServerProcess(database);
    const client = protocolClient("grpc", second.url, second.adminToken);
    expectOk(await client.call("verifyPhone", { userId, verificationCode: code }));
    const user = expectOk(await client.call("getUserByID", { userId }));
    expect(user).toMatchObject({
      user: { userId, human: { profile, phone: { phone, isVerified: true } } },
    });
    expect(await second.stop()).toEqual({ code: 0, signal: null });

    // And the verification itself was stored: a third start still knows, and refuses the code a second time.
    const third = await startServerProcess(database);
    const again = expectFailure(await protocolClient("rest", third.url, third.adminToken).call("verifyPhone", { userId, verificationCode: code }));
    expect(again).toMatchObject({ code: 9, errorInfo: { reason: "ALREADY_VERIFIED" } });
    expectNoCodesIn([...first.stderr, ...second.stderr, ...third.stderr], [code]);
  });
});

describe("key rotation across a restart", () => {
  it("keeps old codes and sealed messages usable after rotating, and issues new codes under the new key", async () => {
    const database = tempDatabase();
    const oldKey = randomBytes(32).toString("base64");
    const newKey = randomBytes(32).toString("base64");

    const before = await startServerProcess(database, { args: ["--keys", `1:${oldKey}`] });
    const beforeClient = protocolClient("connect-binary", before.url, before.adminToken);
    const returned = await addUserWithPhoneCode(beforeClient);
    const keptUnderOldKey = await addUserWithPhoneCode(beforeClient, "+41791234570");
    // No provider and no --dev-print-codes: the message waits sealed (under key 1) in the outbox.
    const sentTo = "+41791112233";
    const sentUserId = await addUserSendingPhoneCode(beforeClient, sentTo);
    await before.stop();

    const rotated = await startServerProcess(database, { args: ["--keys", `2:${newKey},1:${oldKey}`, "--dev-print-codes"] });
    const client = protocolClient("connect-json", rotated.url, rotated.adminToken);
    expectOk(await client.call("verifyPhone", { userId: returned.userId, verificationCode: returned.code }));
    // The message sealed under the old key is opened and delivered after the rotation, and its code verifies.
    const sent = await printedMessage(rotated, sentTo);
    expectOk(await client.call("verifyPhone", { userId: sentUserId, verificationCode: sent.code }));
    // New codes work too.
    const fresh = await addUserWithPhoneCode(client, "+41791234568");
    expectOk(await client.call("verifyPhone", { userId: fresh.userId, verificationCode: fresh.code }));
    const issuedAfterRotation = await addUserWithPhoneCode(client, "+41791234569");
    await rotated.stop();

    // The new key alone: a code issued after the rotation still verifies, so it was issued under the new key...
    const newOnly = await startServerProcess(database, { args: ["--keys", `2:${newKey}`] });
    const newOnlyClient = protocolClient("grpc-web", newOnly.url, newOnly.adminToken);
    expectOk(
      await newOnlyClient.call("verifyPhone", { userId: issuedAfterRotation.userId, verificationCode: issuedAfterRotation.code }),
    );
    // ...while a code whose key was dropped from the keyring cannot be verified any more: it counts as expired
    // (ask for a new one), not as a wrong guess that would use up an attempt.
    const dropped = await newOnlyClient.call("verifyPhone", {
      userId: keptUnderOldKey.userId,
      verificationCode: keptUnderOldKey.code,
    });
    expect(dropped).toMatchObject({ ok: false, code: 9, errorInfo: { reason: "CODE_EXPIRED" } });
  });
});

describe("two processes on one database file", () => {
  async function startPair() {
    const database = tempDatabase();
    const a = await startServerProcess(database);
    const b = await startServerProcess(database);
    return { a, b, clients: [protocolClient("grpc", a.url, a.adminToken), protocolClient("connect-binary", b.url, b.adminToken)] as const };
  }

  it("lets a code be used once: the same correct code sent to both at once succeeds exactly once", async () => {
    const { a, b, clients } = await startPair();
    const users = await Promise.all(Array.from({ length: 20 }, (_, i) => addUserWithPhoneCode(clients[i % 2]!)));

    const outcomes = await Promise.all(
      users.map(({ userId, code }) =>
        Promise.all(clients.map((client) => client.call("verifyPhone", { userId, verificationCode: code }))),
      ),
    );
    for (const results of outcomes) {
      const successes = results.filter((result) => result.ok);
      expect(successes).toHaveLength(1);
      const refusal = expectFailure(results.find((result) => !result.ok)!);
      // The loser either sees the winner's verification or gives up on the race; it is never an internal error.
      expect(["ALREADY_VERIFIED", "CONCURRENT_UPDATE"], `${refusal.code} ${refusal.message}`).toContain(
        refusal.errorInfo?.reason,
      );
    }
    for (const { userId } of users) {
      for (const client of clients) {
        const user = expectOk(await client.call("getUserByID", { userId }));
        expect(user).toMatchObject({ user: { human: { phone: { isVerified: true } } } });
      }
    }
    await Promise.all([a.stop(), b.stop()]);
    expectNoCodesIn([...a.stderr, ...b.stderr], users.map((user) => user.code));
  });

  it("never allows more than five wrong attempts per code across both processes", async () => {
    const { clients } = await startPair();
    const users = await Promise.all(Array.from({ length: 5 }, (_, i) => addUserWithPhoneCode(clients[i % 2]!)));

    await Promise.all(
      users.map(async ({ userId, code }) => {
        const wrong = code === "000000" ? "111111" : "000000";
        // Six wrong codes at each process, all at once.
        const burst = await Promise.all(
          Array.from({ length: 12 }, (_, i) => clients[i % 2]!.call("verifyPhone", { userId, verificationCode: wrong })),
        );
        const failures = burst.map(expectFailure);
        for (const failure of failures) {
          expect(["INVALID_VERIFICATION_CODE", "MAX_ATTEMPTS_REACHED", "CONCURRENT_UPDATE"]).toContain(
            failure.errorInfo?.reason,
          );
        }
        // Each InvalidArgument answer counted one attempt; no attempt was counted twice or past the limit.
        const counted = failures.filter((f) => f.errorInfo?.reason === "INVALID_VERIFICATION_CODE");
        expect(counted.length).toBeLessThanOrEqual(5);
        const attemptsLeft = counted.map((f) => f.errorInfo?.metadata.attemptsLeft);
        expect(new Set(attemptsLeft).size).toBe(counted.length);

        // Use up whatever attempts the race left (none, if all five were counted), alternating processes.
        for (let i = counted.length; i < 5; i++) {
          const failure = expectFailure(await clients[i % 2]!.call("verifyPhone", { userId, verificationCode: wrong }));
          expect(failure.errorInfo?.reason).toBe("INVALID_VERIFICATION_CODE");
          attemptsLeft.push(failure.errorInfo?.metadata.attemptsLeft);
        }
        expect([...attemptsLeft].sort()).toEqual(["0", "1", "2", "3", "4"]);

        // Five wrong attempts in all: the right code is refused now, at either process.
        for (const client of clients) {
          const dead = expectFailure(await client.call("verifyPhone", { userId, verificationCode: code }));
          expect(dead).toMatchObject({ code: 8, errorInfo: { reason: "MAX_ATTEMPTS_REACHED" } });
        }
      }),
    );
  });
});

describe("--dev-print-codes and flag checks", () => {
  it("prints the message with the code on stdout, and that code verifies", async () => {
    const database = tempDatabase();
    const server = await startServerProcess(database, { args: ["--dev-print-codes"] });
    const client = protocolClient("connect-json", server.url, server.adminToken);
    const mobile = uniqueMobile();
    const userId = await addUserSendingPhoneCode(client, mobile);
    const { message, code } = await printedMessage(server, mobile);
    expect(message.channel).toMatch(/phone|sms/i);
    expect(code).toMatch(/^\d{6}$/);
    expectOk(await client.call("verifyPhone", { userId, verificationCode: code }));
    await server.stop();
    // The code goes to stdout only, never into the log.
    expectNoCodesIn(server.stderr, [code]);
  });

  it("refuses --dev-print-codes with --production: exits non-zero, says why on stderr, never listens", async () => {
    const exit = await runServerProcessToExit(tempDatabase(), ["--production", "--dev-print-codes"]);
    expect(exit.code).not.toBe(0);
    expect(exit.code).not.toBeNull();
    const stderr = exit.stderr.join("\n");
    expect(stderr).toContain("--dev-print-codes");
    expect(stderr).toContain("production");
    expect(stderr).not.toContain("verifyd listening");
  });

  it.each([
    ["--port", "abc"],
    ["--port", "70000"],
    ["--max-body-bytes", "lots"],
    ["--log-level", "loud"],
    ["--keys", "not-a-key-list"],
    ["--keys", `1:${Buffer.from("too short").toString("base64")}`],
    ["--tls-cert", "/nonexistent/cert.pem", "--tls-key", "/nonexistent/key.pem"],
  ])("exits with code 2 and names the flag for %s %s", async (...args: string[]) => {
    const exit = await runServerProcessToExit(tempDatabase(), args);
    const stderr = exit.stderr.join("\n");
    expect(exit.code, stderr).toBe(2);
    expect(stderr).toContain(args[0]);
    expect(stderr).not.toContain("verifyd listening");
    // A configuration mistake gets a message, not a stack trace.
    expect(stderr).not.toMatch(/^\s+at /m);
  });

  it("warns once per development-only setting at start, naming it", async () => {
    const server = await startServerProcess(tempDatabase(), { args: ["--keys", `1:${randomBytes(32).toString("base64")}`] });
    await server.stop();
    const warnings = server.stderr
      .map((line) => JSON.parse(line) as { level: string; message: string; setting?: string })
      .filter((entry) => entry.message === "development-only setting");
    expect(warnings).toEqual([expect.objectContaining({ level: "warn", setting: expect.stringMatching(/^--keys: /) })]);
  });

  it("does not echo any part of a malformed key to stderr", async () => {
    const secret = randomBytes(32).toString("base64");
    // A key without its id: the whole value is the secret.
    const exit = await runServerProcessToExit(tempDatabase(), ["--keys", secret]);
    expect(exit.code).not.toBe(0);
    const stderr = exit.stderr.join("\n");
    expect(stderr).not.toContain(secret.slice(0, 6));
  });
});

describe("secrets", () => {
  it("never stores a code in plain text, and keeps the generated keyring owner-only", async () => {
    const database = tempDatabase();
    const server = await startServerProcess(database, { args: ["--dev-print-codes", ...distinctiveCodes] });
    const client = protocolClient("connect-json", server.url, server.adminToken);

    const codes: string[] = [];
    for (let i = 0; i < 3; i++) {
      const returned = await addUserWithPhoneCode(client, `+4179123450${i}`);
      codes.push(returned.code);
      // A resend replaces the code: the replaced one must not be left behind in plain text either.
      const resent = expectOk(await client.call("resendPhoneCode", { userId: returned.userId, returnCode: {} }));
      expect(resent.verificationCode).toEqual(expect.any(String));
      codes.push(resent.verificationCode as string);
      const sentTo = `+4179123451${i}`;
      const sentUserId = await addUserSendingPhoneCode(client, sentTo);
      const sent = await printedMessage(server, sentTo);
      codes.push(sent.code);
      // One of each kept pending, the others verified: both states are on disk.
      if (i > 0) {
        expectOk(await client.call("verifyPhone", { userId: returned.userId, verificationCode: resent.verificationCode as string }));
        expectOk(await client.call("verifyPhone", { userId: sentUserId, verificationCode: sent.code }));
      }
    }
    for (const code of codes) expect(code).toMatch(/^[A-Z]{16}$/);

    // While running (the WAL holds the latest writes) and after a clean stop (checkpointed into the main file).
    expectCodesAbsentFromFiles(database, codes);
    await server.stop();
    expectCodesAbsentFromFiles(database, codes);
    expectNoCodesIn([...server.stderr], codes);

    const keyring = join(dirname(database), "keyring.json");
    expect(statSync(keyring).mode & 0o777).toBe(0o600);
  });

  it("never logs a code at --log-level info, through successes and every kind of refusal", async () => {
    const database = tempDatabase();
    const server = await startServerProcess(database, { args: ["--log-level", "info", ...distinctiveCodes] });
    const codes: string[] = [];
    for (const protocol of ["connect-json", "grpc", "grpc-web", "rest"] as const) {
      const client = protocolClient(protocol, server.url, server.adminToken);
      const verified = await addUserWithPhoneCode(client);
      codes.push(verified.code);
      expectFailure(await client.call("verifyPhone", { userId: verified.userId, verificationCode: "WRONGWRONGWRONGW" }));
      expectOk(await client.call("verifyPhone", { userId: verified.userId, verificationCode: verified.code }));
      expectFailure(await client.call("verifyPhone", { userId: verified.userId, verificationCode: verified.code }));

      const killed = await addUserWithPhoneCode(client);
      codes.push(killed.code);
      for (let i = 0; i < 6; i++) {
        expectFailure(await client.call("verifyPhone", { userId: killed.userId, verificationCode: "WRONGWRONGWRONGW" }));
      }
      expectFailure(await client.call("verifyPhone", { userId: killed.userId, verificationCode: killed.code }));
      // The right code for another user, and a code that breaks validation by length.
      expectFailure(await client.call("verifyPhone", { userId: "123", verificationCode: killed.code }));
      expectFailure(await client.call("verifyPhone", { userId: killed.userId, verificationCode: `${killed.code}${killed.code}` }));
    }
    await server.stop();
    expect(server.stderr.some((line) => line.includes("verifyd listening"))).toBe(true);
    expectNoCodesIn(server.stderr, codes);
    expectNoCodesIn(server.stdout, codes);
  });
});

function expectCodesAbsentFromFiles(database: string, codes: string[]) {
  const directory = dirname(database);
  // The database, its -wal and -shm, and the presence files in verifyd.sqlite-open/.
  const files = (readdirSync(directory, { recursive: true }) as string[])
    .filter((name) => name.startsWith("verifyd.sqlite"))
    .filter((name) => statSync(join(directory, name)).isFile());
  expect(files).toContain("verifyd.sqlite");
  for (const name of files) {
    const bytes = readFileSync(join(directory, name));
    for (const code of codes) {
      for (const encoding of ["utf8", "utf16le"] as const) {
        expect(bytes.indexOf(Buffer.from(code, encoding)), `${code} (${encoding}) found in ${name}`).toBe(-1);
      }
    }
  }
}
