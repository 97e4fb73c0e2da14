// The peers' secrets: one master secret, two keys derived from it once at start (as KeyObjects, so no call imports a
// key), for the code HMAC and for sealing outgoing messages with AES-256-GCM: the crypto verifyd does, written plainly.
import { type KeyObject, createCipheriv, createHash, createHmac, createSecretKey, hkdfSync, randomBytes } from "node:crypto";

export interface PeerKeys {
  /** HMAC-SHA256 of the code, bound to the user and the number it was sent to. */
  codeHash(userId: string, phone: string, code: string): Buffer;
  /** nonce ‖ ciphertext ‖ tag */
  seal(plain: string): Buffer;
}

export function peerKeys(secret: Buffer): PeerKeys {
  const codeKey = derive(secret, "peer code hmac");
  const sealKey = derive(secret, "peer outbox seal");
  return {
    codeHash: (userId, phone, code) => createHmac("sha256", codeKey).update(`${userId}\0${phone}\0${code}`).digest(),
    seal(plain) {
      const nonce = randomBytes(12);
      const cipher = createCipheriv("aes-256-gcm", sealKey, nonce);
      const body = Buffer.concat([cipher.update(plain, "utf8"), cipher.final()]);
      return Buffer.concat([nonce, body, cipher.getAuthTag()]);
    },
  };
}

/** Tokens are random, so a plain SHA-256 is their stored form, as verifyd keeps them. */
export function tokenHash(token: string): string {
  return createHash("sha256").update(token, "utf8").digest("hex");
}

/** The environment variable that carries the master secret (base64) to a peer's process. */
export const peerSecretVariable = "PEER_SECRET";

function derive(secret: Buffer, purpose: string): KeyObject {
  return createSecretKey(Buffer.from(hkdfSync("sha256", secret, Buffer.alloc(0), purpose, 32)));
}
