// Standard Webhooks' signature: HMAC-SHA256 over "<id>.<timestamp>.<body>", sent as "v1,<base64>".
import { createHmac } from "node:crypto";

export function signWebhook(key: Uint8Array, id: string, timestampSeconds: number, body: string): string {
  const mac = createHmac("sha256", key).update(`${id}.${timestampSeconds}.${body}`).digest("base64");
  return `v1,${mac}`;
}
