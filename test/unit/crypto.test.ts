import { type KeyObject, randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { createCodeHasher } from "../../src/crypto/code-hmac.js";
import { loadOrCreateKeyringFile, parseKeyList } from "../../src/crypto/keyring.js";
import { createMessageSealer } from "../../src/crypto/message-sealer.js";

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

  it("generates one key file with owner-only permissions and reuses it", () => {
    const path = join(mkdtempSync(join(tmpdir(), "verifyd-keyring-")), "keyring.json");
    const first = loadOrCreateKeyringFile(path);
    const content = readFileSync(path, "utf8");
    const second = loadOrCreateKeyringFile(path);
    expect(readFileSync(path, "utf8")).toBe(content);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(second.derive(first.currentId, "x")?.equals(first.derive(first.currentId, "x") as KeyObject)).toBe(true);
  });
});

describe("message sealing", () => {
  const message = { channel: "phone" as const, destination: "+41791234567", subject: "", text: "code 123456" };

  it("round-trips across a key rotation and hides the text", () => {
    const oldKey = key();
    const sealed = createMessageSealer(parseKeyList(`1:${oldKey}`)).seal(message);
    expect(Buffer.from(sealed.sealed).toString("latin1")).not.toContain("123456");
    expect(createMessageSealer(parseKeyList(`2:${key()},1:${oldKey}`)).open(sealed.keyId, sealed.sealed)).toEqual(message);
  });

  it("refuses a tampered message", () => {
    const sealer = createMessageSealer(parseKeyList(`1:${key()}`));
    const { keyId, sealed } = sealer.seal(message);
    const tampered = Buffer.from(sealed);
    tampered[20] = (tampered[20] ?? 0) ^ 1;
    expect(() => sealer.open(keyId, tampered)).toThrow();
  });
});
