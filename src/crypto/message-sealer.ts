// Messages waiting for delivery hold a code, so they are encrypted at rest with AES-256-GCM (nonce ‖ ciphertext ‖ tag).
import { type KeyObject, createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import type { MessageSealer, OutgoingMessage } from "../domain/outgoing-message.js";
import type { Keyring } from "./keyring.js";

const purpose = "outbox-aes-gcm-v1";
const nonceBytes = 12;
const tagBytes = 16;
const associatedData = Buffer.from("verifyd outbox message v1");
const noncesPerBatch = 256;

/**
 * Nonces drawn from the CSPRNG a batch at a time and each handed out once: OpenSSL's RAND_bytes costs several
 * microseconds however few bytes it gives (a third of a seal, measured), and a batch costs about one call. Node pools
 * `randomUUID` and `randomInt` the same way. Each batch is a new buffer, so a nonce handed out never changes.
 */
function createNonceSource(): () => Buffer {
  let batch = Buffer.alloc(0);
  let offset = 0;
  return () => {
    if (offset === batch.length) {
      batch = randomBytes(nonceBytes * noncesPerBatch);
      offset = 0;
    }
    offset += nonceBytes;
    return batch.subarray(offset - nonceBytes, offset);
  };
}

export function createMessageSealer(keyring: Keyring): MessageSealer {
  const nextNonce = createNonceSource();
  const keyFor = (keyId: string): KeyObject => {
    const key = keyring.derive(keyId, purpose);
    if (!key) throw new Error(`no key "${keyId}" in the keyring to open an outbox message`);
    return key;
  };
  return {
    keyIds: keyring.ids,
    seal(message) {
      const keyId = keyring.currentId;
      const nonce = nextNonce();
      const cipher = createCipheriv("aes-256-gcm", keyFor(keyId), nonce).setAAD(associatedData);
      const body = Buffer.concat([cipher.update(JSON.stringify(message), "utf8"), cipher.final()]);
      return { keyId, sealed: Buffer.concat([nonce, body, cipher.getAuthTag()]) };
    },
    open(keyId, sealed) {
      const data = Buffer.from(sealed);
      const decipher = createDecipheriv("aes-256-gcm", keyFor(keyId), data.subarray(0, nonceBytes));
      decipher.setAAD(associatedData).setAuthTag(data.subarray(data.length - tagBytes));
      const plain = Buffer.concat([decipher.update(data.subarray(nonceBytes, data.length - tagBytes)), decipher.final()]);
      // Messages sealed before purposes existed were all codes.
      return { purpose: "code", ...(JSON.parse(plain.toString("utf8")) as Omit<OutgoingMessage, "purpose">) };
    },
  };
}
