// Kii's Authorization header: Basic base64(APP_ID:APP_KEY) for an app's own access, or Bearer <token> for a user's.
import type { KiiCredentials } from "../../api/kii/kii-caller.js";

const basicCredentials = /^basic +([A-Za-z0-9+/]+=*) *$/i;
// RFC 6750's b64token after the case-insensitive scheme.
const bearerCredentials = /^bearer +([\w\-.~+/]+=*) *$/i;

/** undefined when the header is missing or is neither well-formed scheme. */
export function kiiCredentialsOf(authorization: string | undefined): KiiCredentials | undefined {
  if (authorization === undefined) return undefined;
  const token = bearerCredentials.exec(authorization)?.[1];
  if (token !== undefined) return { scheme: "bearer", token };
  const encoded = basicCredentials.exec(authorization)?.[1];
  if (encoded === undefined) return undefined;
  const decoded = Buffer.from(encoded, "base64").toString("utf8");
  // RFC 7617: the user id (here the app id) cannot hold a colon; the password (the key) may.
  const colon = decoded.indexOf(":");
  if (colon <= 0) return undefined;
  return { scheme: "basic", appId: decoded.slice(0, colon), appKey: decoded.slice(colon + 1) };
}
