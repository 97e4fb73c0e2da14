// Standard Webhooks' secret format: "whsec_" and the key's bytes in base64, as the published libraries take it.
const prefix = "whsec_";
const minimumBytes = 24;
const maximumBytes = 64;

/** The key bytes of a `whsec_<base64>` secret; throws, without repeating the secret, when it is malformed. */
export function parseWebhookSecret(raw: string): Uint8Array {
  const encoded = raw.trim();
  if (!encoded.startsWith(prefix)) throw new Error(`must start with ${prefix}`);
  const base64 = encoded.slice(prefix.length);
  if (!/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(base64)) {
    throw new Error(`must be ${prefix} followed by standard base64`);
  }
  const key = Buffer.from(base64, "base64");
  if (key.length < minimumBytes || key.length > maximumBytes) {
    throw new Error(`must hold ${minimumBytes} to ${maximumBytes} bytes (it holds ${key.length}); make one with: echo whsec_$(openssl rand -base64 32)`);
  }
  return new Uint8Array(key);
}
