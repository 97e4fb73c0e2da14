// Messages waiting for delivery hold a code, so they are encrypted at rest with AES-256-GCM (nonce ‖ ciphertext ‖ tag).
import { type KeyObject, createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import type { MessageSealer, OutgoingMessage } from "../domain/outgoing-message.js";
import type { Keyring } from "./keyring.js";

const purpose = "outbox-aes-gcm-v1";
const nonceBytes = 12;
const tagBytes = 16;
const associatedData = Buffer.from("verifyd outbox message v1");

export function createMessageSealer(keyring: Keyring): MessageSealer {
  const keyFor = (keyId: string): KeyObject => {
    const key = keyring.derive(keyId, purpose);
    if (!key) throw new Error(`no key "${keyId}" in the keyring to open an outbox message`);
    return key;
  };
  return {
    seal(message) {
      const keyId = keyring.currentId;
      const nonce = randomBytes(nonceBytes);
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
