// The paths of Kii Cloud's user and verification API under /api/apps/{appID}/, matched to what they do.
import type { KiiUserRef } from "../../api/kii/kii-target-user.js";
import type { Channel } from "../../domain/errors.js";

export const kiiPathPrefix = "/api/apps/";

export type KiiRoute =
  | { operation: "token" }
  | { operation: "register" }
  | { operation: "read-user" | "update-user"; user: KiiUserRef }
  | { operation: "verify" | "resend" | "reset-code"; user: KiiUserRef; channel: Channel };

export type KiiRouteMatch =
  | { kind: "route"; appId: string; route: KiiRoute }
  | { kind: "method-not-allowed"; allow: string }
  | { kind: "unsupported-user-reference"; reference: string }
  | { kind: "not-found" };

// Maps, not objects: a segment such as "constructor" or "toString" must find nothing, not what every object inherits.
const channels: ReadonlyMap<string, Channel> = new Map([
  ["phone-number", "phone"],
  ["email-address", "email"],
]);

const addressActions: ReadonlyMap<string, "verify" | "resend" | "reset-code"> = new Map([
  ["verify", "verify"],
  ["resend-verification", "resend"],
  ["reset-verification-code", "reset-code"],
]);

/** `path` without the query; segments are percent-decoded. */
export function matchKiiRoute(method: string, path: string): KiiRouteMatch {
  const segments = decodedSegments(path.slice(kiiPathPrefix.length));
  const [appId, collection, userSegment, addressSegment, action, ...rest] = segments ?? [];
  if (!appId || rest.length > 0) return { kind: "not-found" };
  const post = (route: KiiRoute): KiiRouteMatch =>
    method === "POST" ? { kind: "route", appId, route } : { kind: "method-not-allowed", allow: "POST" };

  if (collection === "oauth2" && userSegment === "token" && addressSegment === undefined) return post({ operation: "token" });
  if (collection !== "users") return { kind: "not-found" };
  if (userSegment === undefined) return post({ operation: "register" });
  // Kii also finds users by LOGIN_NAME:, EMAIL: and PHONE: references; verifyd only by id.
  if (userSegment.includes(":")) return { kind: "unsupported-user-reference", reference: userSegment };
  const user: KiiUserRef = userSegment === "me" ? { kind: "me" } : { kind: "id", userId: userSegment };
  if (addressSegment === undefined) {
    // HEAD as HTTP asks of every GET (RFC 9110 §9.3.2): the GET's status and headers, no body.
    if (method === "GET" || method === "HEAD") return { kind: "route", appId, route: { operation: "read-user", user } };
    if (method === "POST") return { kind: "route", appId, route: { operation: "update-user", user } };
    return { kind: "method-not-allowed", allow: "GET, HEAD, POST" };
  }
  const channel = channels.get(addressSegment);
  const operation = action === undefined ? undefined : addressActions.get(action);
  if (!channel || !operation) return { kind: "not-found" };
  return post({ operation, user, channel });
}

/** undefined for an empty segment (a trailing or doubled slash) or a malformed escape. */
function decodedSegments(path: string): string[] | undefined {
  try {
    const segments = path.split("/").map((segment) => decodeURIComponent(segment));
    return segments.includes("") ? undefined : segments;
  } catch {
    return undefined;
  }
}
