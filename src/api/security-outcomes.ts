// Which security outcomes a call that failed with a domain error is: refusals for lack of permission, limits hit,
// wrong codes and the lockouts they start, wrong current passwords. One decision for every API (the RPC interceptor
// and Kii's REST surface), so the log tells the same story whichever API a caller used.
import type { DescMethod, DescService } from "@bufbuild/protobuf";
import type { ContextValues } from "@connectrpc/connect";
import type { DomainError } from "../domain/errors.js";
import type { SecurityEventInput, SecurityEventKind } from "../domain/security/security-event.js";
import { principalKey, requestContextKey } from "./request-context.js";

/** The facts of a failed call the log records. */
export interface FailedCall {
  /** "<Service>/<Method>", e.g. "UserService/VerifyPhone" or "Kii/VerifyPhone". */
  method: string;
  /** The user (or app) behind the call's credentials; without credentials, where the call came from. */
  caller: { actorId?: string; clientAddress?: string };
  /** The user the call is about, when it names one. */
  userId?: string;
  /** The organization the call is about, when it names one (settings, applications, administrators). */
  organizationId?: string;
}

/** The facts of an RPC that fails; `target`: the user and organization the request names, if any. */
export function failedCallOf(
  service: DescService,
  method: DescMethod,
  values: ContextValues,
  target: { userId?: string | undefined; organizationId?: string | undefined },
): FailedCall {
  const call: FailedCall = { method: `${service.name}/${method.name}`, caller: callerOf(values) };
  if (target.userId) call.userId = target.userId;
  if (target.organizationId) call.organizationId = target.organizationId;
  return call;
}

/** The user behind the call's token; without one, where the call came from. */
function callerOf(values: ContextValues): FailedCall["caller"] {
  const principal = values.get(principalKey);
  if (principal) return { actorId: principal.userId };
  const address = values.get(requestContextKey)?.peer.address;
  return address ? { clientAddress: address } : {};
}

/** Reasons that say a limit or throttle refused the call. */
export const limitReasons = new Set([
  "SEND_LIMIT_REACHED",
  "VERIFY_LIMIT_REACHED",
  "TOO_MANY_FAILURES",
  "MAX_ATTEMPTS_REACHED",
  "PASSWORD_CHECKS_THROTTLED",
]);

const verifiedChannels: Readonly<Record<string, string>> = { VerifyPhone: "phone", VerifyEmail: "email" };

/** What the log records of a failed call; nothing for the errors that say nothing about security. */
export function securityOutcomesOf(error: DomainError, call: FailedCall): SecurityEventInput[] {
  const { method } = call;
  const methodName = method.slice(method.indexOf("/") + 1);
  const { metadata } = error;
  if (error.kind === "PermissionDenied") {
    return [outcomeOf("permission.denied", call, detailOf({ method, reason: error.reason, permission: metadata.permission }))];
  }
  if (limitReasons.has(error.reason)) {
    // Not the retry wait: it differs on every repeat, which would keep repeats from counting on one entry.
    return [outcomeOf("limit.reached", call, detailOf({ method, reason: error.reason, limit: metadata.limit }))];
  }
  if (error.reason === "INVALID_VERIFICATION_CODE") {
    const channel = verifiedChannels[methodName];
    const failed = outcomeOf("code.failed", call, detailOf({ channel }));
    if (metadata.lockedForSeconds === undefined) return [failed];
    return [failed, outcomeOf("contact.locked", call, detailOf({ channel, lockedForSeconds: metadata.lockedForSeconds }))];
  }
  if (error.reason === "PASSWORD_INVALID" && methodName === "SetPassword") {
    // A wrong current password is a guess at the password, like a failed login.
    return [outcomeOf("login.failed", call, { method, reason: error.reason })];
  }
  return [];
}

/**
 * An outcome of the call with who took part in it. Built field by field rather than spread from the call: a wrong
 * code builds one or two, and spreading objects of several shapes took about 2 µs in a microbenchmark. So a field
 * added to FailedCall's caller must be added here too.
 */
function outcomeOf(kind: SecurityEventKind, call: FailedCall, detail: Record<string, string>): SecurityEventInput {
  const { actorId, clientAddress } = call.caller;
  const event: SecurityEventInput = { kind, detail };
  if (actorId !== undefined) event.actorId = actorId;
  if (clientAddress !== undefined) event.clientAddress = clientAddress;
  if (call.userId) event.userId = call.userId;
  if (call.organizationId) event.organizationId = call.organizationId;
  return event;
}

function detailOf(entries: Record<string, string | undefined>): Record<string, string> {
  const detail: Record<string, string> = {};
  for (const key in entries) {
    const value = entries[key];
    if (value !== undefined) detail[key] = value;
  }
  return detail;
}
