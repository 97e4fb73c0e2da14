// Records the security outcomes that calls end in with a domain error: refusals for lack of permission, limits hit,
// wrong codes and the lockouts they start, wrong current passwords. One interceptor sees every such error of every
// RPC on every protocol, so no handler can forget one. It sits inside the error interceptor, which then turns the
// error into its wire form; the caller gets the same answer whether or not the recording worked.
import type { Interceptor, StreamRequest, UnaryRequest } from "@connectrpc/connect";
import { DomainError } from "../domain/errors.js";
import type { SecurityEventInput } from "../domain/security/security-event.js";
import { principalKey, requestContextKey } from "./request-context.js";
import type { SecurityRecorder } from "./security-recorder.js";

/** Reasons that say a limit or throttle refused the call. */
const limitReasons = new Set([
  "SEND_LIMIT_REACHED",
  "VERIFY_LIMIT_REACHED",
  "TOO_MANY_FAILURES",
  "MAX_ATTEMPTS_REACHED",
  "PASSWORD_CHECKS_THROTTLED",
]);

const verifiedChannels: Readonly<Record<string, string>> = { VerifyPhone: "phone", VerifyEmail: "email" };

export function createSecurityOutcomeInterceptor(record: SecurityRecorder): Interceptor {
  return (next) => async (req) => {
    try {
      return await next(req);
    } catch (error) {
      if (error instanceof DomainError) {
        for (const event of outcomesOf(error, req)) await record(event);
      }
      throw error;
    }
  };
}

/** What the log records of a failed call; nothing for the errors that say nothing about security. */
function outcomesOf(error: DomainError, req: UnaryRequest | StreamRequest): SecurityEventInput[] {
  const method = `${req.service.name}/${req.method.name}`;
  const who = { ...callerOf(req), ...targetUserOf(req) };
  const { metadata } = error;
  if (error.kind === "PermissionDenied") {
    return [{ kind: "permission.denied", ...who, detail: detailOf({ method, reason: error.reason, permission: metadata.permission }) }];
  }
  if (limitReasons.has(error.reason)) {
    // Not the retry wait: it differs on every repeat, which would keep repeats from counting on one entry.
    return [{ kind: "limit.reached", ...who, detail: detailOf({ method, reason: error.reason, limit: metadata.limit }) }];
  }
  if (error.reason === "INVALID_VERIFICATION_CODE") {
    const channel = verifiedChannels[req.method.name];
    const failed: SecurityEventInput = { kind: "code.failed", ...who, detail: detailOf({ channel }) };
    if (metadata.lockedForSeconds === undefined) return [failed];
    return [failed, { kind: "contact.locked", ...who, detail: detailOf({ channel, lockedForSeconds: metadata.lockedForSeconds }) }];
  }
  if (error.reason === "PASSWORD_INVALID" && req.method.name === "SetPassword") {
    // A wrong current password is a guess at the password, like a failed login.
    return [{ kind: "login.failed", ...who, detail: { method, reason: error.reason } }];
  }
  return [];
}

/** The user behind the call's token; without one, where the call came from. */
function callerOf(req: UnaryRequest | StreamRequest): { actorId?: string; clientAddress?: string } {
  const principal = req.contextValues.get(principalKey);
  if (principal) return { actorId: principal.userId };
  const address = req.contextValues.get(requestContextKey)?.peer.address;
  return address ? { clientAddress: address } : {};
}

/** The user a request is about, when it names one. */
function targetUserOf(req: UnaryRequest | StreamRequest): { userId?: string } {
  if (req.stream) return {};
  const { userId } = req.message as { userId?: unknown };
  return typeof userId === "string" && userId !== "" ? { userId } : {};
}

function detailOf(entries: Record<string, string | undefined>): Record<string, string> {
  return Object.fromEntries(Object.entries(entries).filter((entry): entry is [string, string] => entry[1] !== undefined));
}
