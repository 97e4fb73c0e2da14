// Codes are stored as HMAC-SHA256 over the code and what it is bound to, never in plain text or reversibly.
import { createHmac, timingSafeEqual } from "node:crypto";
import type { CodeBinding, CodeHasher } from "../domain/verification-code.js";
import type { Keyring } from "./keyring.js";

const purpose = "code-hmac-v1";

export function createCodeHasher(keyring: Keyring): CodeHasher {
  const mac = (keyId: string, code: string, binding: CodeBinding): Buffer | undefined => {
    const key = keyring.derive(keyId, purpose);
    if (!key) return undefined;
    // NUL separators keep the parts apart: only the first part, the caller-chosen user id, can contain a NUL,
    // and channel, destination and code never do, so every binding encodes uniquely.
    return createHmac("sha256", key)
      .update([binding.userId, binding.channel, binding.destination, code].join("\0"))
      .digest();
  };
  return {
    hash(code, binding) {
      const keyId = keyring.currentId;
      return { keyId, hash: (mac(keyId, code, binding) as Buffer).toString("base64url") };
    },
    knowsKey(keyId) {
      return keyring.derive(keyId, purpose) !== undefined;
    },
    matches(code, binding, stored) {
      const actual = mac(stored.keyId, code, binding);
      const expected = Buffer.from(stored.hash, "base64url");
      return actual !== undefined && actual.length === expected.length && timingSafeEqual(actual, expected);
    },
  };
}
