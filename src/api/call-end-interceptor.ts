// How every RPC ends, on every protocol (gRPC, gRPC-Web, Connect and the REST gateway pass the same interceptors), in
// the order each needs to see it:
// - a request whose ids or filter values hold control characters ends before it starts (ids-and-filters.ts): they
//   would go to the database as sent;
// - the domain outcome (success, or the domain error that refused the call) goes to its observers (the metrics);
// - the security outcomes a refusal is (security-outcomes.ts) are recorded; a wrong code's are already in the security
//   log, committed with its failed attempt, so only their log lines are written. The caller gets the same answer
//   whether or not the recording worked;
// - a domain error becomes its wire form, and an unexpected exception a generic Internal error, logged with the
//   request id (which the access log sends back as x-request-id on every answer);
// - the call's name, its caller and the code the client gets are noted for its access line (transport/access-log.ts),
//   and the call is counted and timed with that code, Internal included.
// One interceptor, so one async frame per call: as five interceptors, each awaiting the next, the same work took 3–4%
// more of a VerifyPhone's CPU (README, performance, step 37).
import { ConnectError, type Interceptor, type UnaryRequest, type StreamRequest } from "@connectrpc/connect";
import { DomainError } from "../domain/errors.js";
import type { Logger } from "../logger.js";
import type { CallMetrics } from "../metrics/call-metrics.js";
import type { CallOutcomeObserver } from "./call-outcomes.js";
import type { ExistingTargets } from "./existing-targets.js";
import { codeName } from "./code-names.js";
import { internalError, toConnectError } from "./connect-errors.js";
import { refuseControlCharactersInIdsAndFilters } from "./ids-and-filters.js";
import { principalKey, requestContextKey } from "./request-context.js";
import type { SecurityRecorder } from "./security-recorder.js";
import { failedCallOf, securityOutcomesOf } from "./security-outcomes.js";

export interface CallEndDeps {
  metrics: CallMetrics;
  observeOutcome: CallOutcomeObserver;
  recordSecurityEvent: SecurityRecorder;
  /** What a refusal's outcomes keep of the user and organization the request named (existing-targets.ts). */
  existingTargets: ExistingTargets;
  logger: Logger;
}

export function createCallEndInterceptor(deps: CallEndDeps): Interceptor {
  return (next) => async (req) => {
    const started = performance.now();
    const context = req.contextValues.get(requestContextKey);
    const record = context?.call;
    if (record) {
      record.rpc = `${req.service.typeName}/${req.method.name}`;
      record.callerId = req.contextValues.get(principalKey)?.userId;
      record.userId = req.stream ? undefined : userIdIn(req.message);
    }
    const ended = (code: string) => {
      if (record) record.code = code;
      const protocol = context?.protocol ?? "unknown";
      deps.metrics.observe({ service: req.service.typeName, method: req.method.name, protocol, code }, (performance.now() - started) / 1000);
    };
    try {
      if (!req.stream) refuseControlCharactersInIdsAndFilters(req.method.input, req.message);
      const res = await next(req);
      // A user the call created (AddHumanUser's userId, CreateUser's id) is what it was about.
      if (record && record.userId === undefined && !res.stream) record.userId = userIdIn(res.message) ?? createdId(req.method.name, res.message);
      deps.observeOutcome(req.method.name);
      ended("ok");
      return res;
    } catch (error) {
      const requestId = context?.requestId ?? "";
      if (error instanceof DomainError) await reportRefusal(error, req, requestId, deps);
      const wire = toWireError(error, req.method.name, requestId, deps.logger);
      ended(codeName(wire.code));
      throw wire;
    }
  };
}

async function reportRefusal(
  error: DomainError,
  req: UnaryRequest | StreamRequest,
  requestId: string,
  deps: CallEndDeps,
): Promise<void> {
  deps.observeOutcome(req.method.name, error);
  const stored = error.loggedSecurityEvents;
  const events =
    stored ??
    (await Promise.all(
      securityOutcomesOf(error, failedCallOf(req.service, req.method, req.contextValues, targetOf(req))).map(deps.existingTargets),
    ));
  for (const event of events) await deps.recordSecurityEvent(event, requestId, stored !== undefined);
}

function toWireError(error: unknown, method: string, requestId: string, logger: Logger): ConnectError {
  if (error instanceof DomainError) return toConnectError(error);
  if (error instanceof ConnectError) return error;
  logger.error("unexpected error", { requestId, method, error });
  return internalError(requestId);
}

function userIdIn(message: object): string | undefined {
  const { userId } = message as { userId?: unknown };
  return typeof userId === "string" && userId !== "" ? userId : undefined;
}

function createdId(method: string, message: object): string | undefined {
  const { id } = message as { id?: unknown };
  return method === "CreateUser" && typeof id === "string" ? id : undefined;
}

/**
 * The user and the organization a request is about, where it names them: `user_id`; `organization_id`, or the
 * administrators' `resource`.
 */
function targetOf(req: UnaryRequest | StreamRequest): { userId?: string; organizationId?: string } {
  if (req.stream) return {};
  const { userId, organizationId, resource } = req.message as {
    userId?: unknown;
    organizationId?: unknown;
    resource?: { resource?: { case?: unknown; value?: unknown } };
  };
  const named = resource?.resource?.case === "organizationId" ? resource.resource.value : organizationId;
  return {
    ...(typeof userId === "string" ? { userId } : {}),
    ...(typeof named === "string" ? { organizationId: named } : {}),
  };
}
