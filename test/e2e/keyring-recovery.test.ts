// A keyring that cannot open the database's codes never starts silently: a lost keyring.json is not regenerated, a
// different key under a known id is refused, and only a deliberate rotation to new ids starts (old codes expire).
import { randomBytes } from "node:crypto";
import { readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { expectOk, protocolClient } from "../helpers/protocol-clients.js";
import {
  type FinishedProcess,
  runServerProcessToExit,
  type ServerProcess,
  startServerProcess,
  serverProcessDirectories,
} from "../helpers/server-process.js";

const tempDirectory = serverProcessDirectories("verifyd-keyring-");

/** A database and its generated keyring.json holding one user with a pending phone code. */
async function databaseWithPendingCode() {
  const directory = tempDirectory();
  const database = join(directory, "verifyd.sqlite");
  const server = await startServerProcess(database);
  const added = expectOk(
    await protocolClient("connect-json", server.url, server.adminToken).call("addHumanUser", {
      profile: { givenName: "Ada", familyName: "Lovelace" },
      phone: { phone: "+41791234567", returnCode: {} },
    }),
  );
  await server.stop();
  const keyring = join(directory, "keyring.json");
  return { database, keyring, userId: added.userId as string, code: added.phoneCode as string };
}

function refusal(exit: FinishedProcess): string {
  const stderr = exit.stderr.join("\n");
  expect(exit.code, stderr).toBe(2);
  expect(stderr).not.toMatch(/^\s+at /m);
  const plain = exit.stderr.filter((line) => !line.startsWith("{"));
  expect(plain, stderr).toHaveLength(1);
  return plain[0] as string;
}

async function verify(database: string, userId: string, code: string, env: NodeJS.ProcessEnv = {}) {
  const server = await startServerProcess(database, { env });
  try {
    return { result: await protocolClient("grpc", server.url, server.adminToken).call("verifyPhone", { userId, verificationCode: code }), server };
  } finally {
    await server.stop();
  }
}

describe("keyring recovery", () => {
  it("refuses to start when keyring.json is lost, and the code verifies once it is restored", async () => {
    const { database, keyring, userId, code } = await databaseWithPendingCode();
    renameSync(keyring, `${keyring}.backup`);

    const line = refusal(await runServerProcessToExit(database, []));
    expect(line).toContain(keyring);
    expect(line).toContain("VERIFYD_KEYS");
    expect(() => readFileSync(keyring)).toThrow(/ENOENT/);

    renameSync(`${keyring}.backup`, keyring);
    expectOk((await verify(database, userId, code)).result);
  });

  it("refuses a different key under a known id, from keyring.json or VERIFYD_KEYS, without printing key material", async () => {
    const { database, keyring, userId, code } = await databaseWithPendingCode();
    const original = readFileSync(keyring, "utf8");
    const id = (JSON.parse(original) as { current: string }).current;
    const other = randomBytes(32).toString("base64");
    writeFileSync(keyring, JSON.stringify({ current: id, keys: { [id]: other } }));

    const fromFile = refusal(await runServerProcessToExit(database, []));
    expect(fromFile).toContain(keyring);
    expect(fromFile).toContain(`"${id}"`);

    const fromEnvironment = refusal(await runServerProcessToExit(database, [], { env: { VERIFYD_KEYS: `${id}:${other}` } }));
    expect(fromEnvironment).toContain("VERIFYD_KEYS");
    expect(fromEnvironment).toContain(`"${id}"`);

    const originalKey = (JSON.parse(original) as { keys: Record<string, string> }).keys[id] as string;
    for (const line of [fromFile, fromEnvironment]) {
      expect(line).not.toContain(other.slice(0, 8));
      expect(line).not.toContain(originalKey.slice(0, 8));
    }

    writeFileSync(keyring, original);
    expectOk((await verify(database, userId, code)).result);
  });

  it("starts with a warning on a full rotation to new ids, and the old code is expired, not a wrong guess", async () => {
    const { database, userId, code } = await databaseWithPendingCode();
    const { result, server } = await verify(database, userId, code, { VERIFYD_KEYS: `rotated:${randomBytes(32).toString("base64")}` });
    expect(result).toMatchObject({ ok: false, code: 9, errorInfo: { reason: "CODE_EXPIRED" } });
    const warnings = server.stderr.filter((line) => line.includes('"level":"warn"') && line.includes("rotated"));
    expect(warnings, server.stderr.join("\n")).toHaveLength(1);
  });

  it("warns at start of messages waiting that were sealed with a key the keyring lacks, naming the key", async () => {
    const database = join(tempDirectory(), "verifyd.sqlite");
    const newer = `k2:${randomBytes(32).toString("base64")}`;
    const older = `k1:${randomBytes(32).toString("base64")}`;
    // A provider nobody answers: the message stays waiting, sealed with the current key, k2.
    const webhook = { VERIFYD_SMS_WEBHOOK_URL: "http://127.0.0.1:9/sms", VERIFYD_WEBHOOK_SECRET: `whsec_${randomBytes(32).toString("base64")}` };
    const rotated = await startServerProcess(database, { env: { ...webhook, VERIFYD_KEYS: `${newer},${older}` } });
    expectOk(
      await protocolClient("grpc", rotated.url, rotated.adminToken).call("addHumanUser", {
        profile: { givenName: "Ada", familyName: "Lovelace" },
        phone: { phone: "+41791234567", sendCode: {} },
      }),
    );
    const keyWarnings = (server: ServerProcess) => server.stderr.filter((line) => line.includes("keyring lacks"));
    expect(keyWarnings(rotated)).toEqual([]);
    await rotated.stop();

    const rolledBack = await startServerProcess(database, { env: { ...webhook, VERIFYD_KEYS: older } });
    await rolledBack.stop();
    const [warning, ...others] = keyWarnings(rolledBack);
    expect(others).toEqual([]);
    expect(JSON.parse(warning ?? "{}")).toMatchObject({ level: "warn", messagesByKeyId: { k2: 1 }, keyIds: ["k1"] });
    expect(warning).not.toContain(newer.slice(3));
  });
});

