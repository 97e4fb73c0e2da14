import { type KeyObject, randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { createCodeHasher } from "../../src/crypto/code-hmac.js";
import { parseKeyList } from "../../src/crypto/keyring.js";
import { loadKeyringFile } from "../../src/crypto/keyring-file.js";
import { type KeyRecords, checkKeyring, keyFingerprint } from "../../src/crypto/keyring-guard.js";
import { createMessageSealer } from "../../src/crypto/message-sealer.js";
import type { OutgoingMessage } from "../../src/domain/outgoing-message.js";

const key = () => randomBytes(32).toString("base64");
const binding = { userId: "42", channel: "phone" as const, destination: "+41791234567" };

describe("code hashing", () => {
  it("verifies a code issued before a key rotation with the old key, and new codes use the new key", () => {
    const [oldKey, newKey] = [key(), key()];
    const before = createCodeHasher(parseKeyList(`1:${oldKey}`));
    const stored = before.hash("123456", binding);
    const after = createCodeHasher(parseKeyList(`2:${newKey},1:${oldKey}`));
    expect(after.matches("123456", binding, stored)).toBe(true);
    expect(after.hash("123456", binding).keyId).toBe("2");
  });

  it("does not verify after the old key is dropped from the keyring", () => {
    const oldKey = key();
    const stored = createCodeHasher(parseKeyList(`1:${oldKey}`)).hash("123456", binding);
    expect(createCodeHasher(parseKeyList(`2:${key()}`)).matches("123456", binding, stored)).toBe(false);
  });

  it("binds a code to user, channel and destination", () => {
    const hasher = createCodeHasher(parseKeyList(`1:${key()}`));
    const stored = hasher.hash("123456", binding);
    expect(hasher.matches("123456", binding, stored)).toBe(true);
    expect(hasher.matches("123457", binding, stored)).toBe(false);
    expect(hasher.matches("123456", { ...binding, userId: "43" }, stored)).toBe(false);
    expect(hasher.matches("123456", { ...binding, channel: "email" }, stored)).toBe(false);
    expect(hasher.matches("123456", { ...binding, destination: "+41791234568" }, stored)).toBe(false);
    expect(stored.hash).not.toContain("123456");
  });
});

describe("keyring", () => {
  it("refuses keys that are not 32 bytes, with a message naming the key", () => {
    expect(() => parseKeyList("k1:c2hvcnQ=")).toThrow(/k1.*32 bytes/);
    expect(() => parseKeyList("")).toThrow(/empty/);
  });

  const keyringPath = () => join(mkdtempSync(join(tmpdir(), "verifyd-keyring-")), "keyring.json");

  it("generates one key file with owner-only permissions and reuses it, leaving no temporary file", () => {
    const path = keyringPath();
    const first = loadKeyringFile(path, { mayCreate: true });
    const content = readFileSync(path, "utf8");
    const second = loadKeyringFile(path, { mayCreate: true });
    expect(readFileSync(path, "utf8")).toBe(content);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(second.derive(first.currentId, "x")?.equals(first.derive(first.currentId, "x") as KeyObject)).toBe(true);
    expect(readdirSync(join(path, ".."))).toEqual(["keyring.json"]);
  });

  it("does not generate a missing or empty key file when it may not, and says to restore it", () => {
    const path = keyringPath();
    expect(() => loadKeyringFile(path, { mayCreate: false })).toThrow(/missing or empty.*restore keyring\.json.*VERIFYD_KEYS/);
    writeFileSync(path, "");
    expect(() => loadKeyringFile(path, { mayCreate: false })).toThrow(path);
    expect(readFileSync(path, "utf8")).toBe("");
  });

  it("replaces an empty key file when it may", () => {
    const path = keyringPath();
    writeFileSync(path, "");
    const keyring = loadKeyringFile(path, { mayCreate: true });
    expect(JSON.parse(readFileSync(path, "utf8"))).toMatchObject({ current: keyring.currentId });
  });

  it("refuses a damaged key file, naming it without quoting it", () => {
    const path = keyringPath();
    const secret = key();
    writeFileSync(path, `{"current": "1", "keys": {"1": "${secret}"`);
    expect(() => loadKeyringFile(path, { mayCreate: true })).toThrow(path);
    try {
      loadKeyringFile(path, { mayCreate: true });
    } catch (error) {
      expect((error as Error).message).not.toContain(secret.slice(0, 8));
    }
  });
});

describe("keyring check against the database's records", () => {
  function records(initial: Record<string, string> = {}): KeyRecords {
    const stored = new Map(Object.entries(initial));
    return {
      fingerprints: async () => new Map(stored),
      async record(fingerprints) {
        for (const [id, fingerprint] of fingerprints) if (!stored.has(id)) stored.set(id, fingerprint);
      },
      holdsData: async () => stored.size > 0,
    };
  }
  const now = new Date();

  it("fingerprints tell keys apart without revealing them", () => {
    const secret = key();
    const keyring = parseKeyList(`1:${secret}`);
    const fingerprint = keyFingerprint(keyring, "1");
    expect(fingerprint).toBe(keyFingerprint(parseKeyList(`1:${secret}`), "1"));
    expect(fingerprint).not.toBe(keyFingerprint(parseKeyList(`1:${key()}`), "1"));
    expect(fingerprint).not.toContain(Buffer.from(secret, "base64").toString("base64url").slice(0, 8));
  });

  it("records new keys, accepts them again, and refuses another key under a recorded id, naming id and source", async () => {
    const known = records();
    const keyring = parseKeyList(`1:${key()}`);
    expect(await checkKeyring(keyring, "keyring.json", known, now)).toEqual({ retiredIds: [] });
    expect(await checkKeyring(keyring, "keyring.json", known, now)).toEqual({ retiredIds: [] });
    await expect(checkKeyring(parseKeyList(`1:${key()}`), "VERIFYD_KEYS / --keys", known, now)).rejects.toThrow(
      /key "1" of the keyring in VERIFYD_KEYS \/ --keys is not the key "1"/,
    );
  });

  it("names the retired keys on a full rotation, but not on a rotation that keeps an old key", async () => {
    const [oldKey, newKey] = [key(), key()];
    const known = records();
    await checkKeyring(parseKeyList(`1:${oldKey}`), "keyring.json", known, now);
    expect(await checkKeyring(parseKeyList(`2:${newKey},1:${oldKey}`), "env", known, now)).toEqual({ retiredIds: [] });
    expect(await checkKeyring(parseKeyList(`3:${key()}`), "env", known, now)).toEqual({ retiredIds: ["1", "2"] });
  });
});

describe("message sealing", () => {
  const message = { channel: "phone" as const, destination: "+41791234567", purpose: "code" as const, subject: "", text: "code 123456" };

  it("round-trips across a key rotation and hides the text", () => {
    const oldKey = key();
    const sealed = createMessageSealer(parseKeyList(`1:${oldKey}`)).seal(message);
    expect(Buffer.from(sealed.sealed).toString("latin1")).not.toContain("123456");
    expect(createMessageSealer(parseKeyList(`2:${key()},1:${oldKey}`)).open(sealed.keyId, sealed.sealed)).toEqual(message);
  });

  it("opens a message sealed before messages had a purpose as a code", () => {
    const sealer = createMessageSealer(parseKeyList(`1:${key()}`));
    const { purpose: _, ...older } = message;
    const { keyId, sealed } = sealer.seal(older as OutgoingMessage);
    expect(sealer.open(keyId, sealed)).toEqual(message);
  });

  it("gives every message a nonce of its own, across the batches nonces are drawn in", () => {
    const sealer = createMessageSealer(parseKeyList(`1:${key()}`));
    const sealedMessages = Array.from({ length: 600 }, () => sealer.seal(message));
    const nonces = new Set(sealedMessages.map(({ sealed }) => Buffer.from(sealed).subarray(0, 12).toString("hex")));
    expect(nonces.size).toBe(600);
    for (const { keyId, sealed } of sealedMessages) expect(sealer.open(keyId, sealed)).toEqual(message);
  });

  it("refuses a tampered message", () => {
    const sealer = createMessageSealer(parseKeyList(`1:${key()}`));
    const { keyId, sealed } = sealer.seal(message);
    const tampered = Buffer.from(sealed);
    tampered[20] = (tampered[20] ?? 0) ^ 1;
    expect(() => sealer.open(keyId, tampered)).toThrow();
  });
});
