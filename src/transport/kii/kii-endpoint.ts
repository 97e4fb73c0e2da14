// Kii Cloud's user and verification API under /api/apps/{appID}/, served by the same domain as the ZITADEL API. It
// claims every path under that prefix (an unknown one is a Kii-style 404) and authenticates each call itself, from
// the headers and before the body is read: Basic app credentials or a bearer token, which the generic
// authentication in front of the RPC handler would not understand.
import { Code, ConnectError } from "@connectrpc/connect";
import {
  type KiiAddressVerificationDeps,
  resendKiiVerification,
  resetKiiVerificationCode,
  verifyKiiAddress,
} from "../../api/kii/kii-address-verification.js";
import {
  type KiiCaller,
  type KiiCallerDeps,
  authenticateKiiCaller,
  authenticateTokenRequest,
  kiiActorOf,
} from "../../api/kii/kii-caller.js";
import { KiiError, echoed } from "../../api/kii/kii-error.js";
import { kiiErrorOf } from "../../api/kii/kii-error-mapping.js";
import { type KiiRegistrationDeps, registerKiiUser } from "../../api/kii/kii-registration.js";
import type { KiiBody } from "../../api/kii/kii-request-fields.js";
import { type KiiUserReadingDeps, readKiiUser } from "../../api/kii/kii-user-reading.js";
import { type KiiUserUpdateDeps, updateKiiUser } from "../../api/kii/kii-user-update.js";
import type { SecurityRecorder } from "../../api/security-recorder.js";
import { callOf, noteCall } from "../../call-scope.js";
import { DomainError } from "../../domain/errors.js";
import type { Logger } from "../../logger.js";
import type { CallMetrics } from "../../metrics/call-metrics.js";
import { observeHttpCall } from "../http-call-metrics.js";
import type { NodeRequest, NodeResponse } from "../call-context.js";
import { type TokenEndpointDeps, serveTokenRequest } from "../oauth/token-endpoint.js";
import { type KiiAnswer, sendKiiAnswer, sendKiiError } from "./kii-answer.js";
import { kiiCredentialsOf } from "./kii-credentials.js";
import { kiiMethodNameOf } from "./kii-method-name.js";
import { kiiJsonType, readKiiBody } from "./kii-request-body.js";
import { type KiiRoute, type KiiRouteMatch, kiiPathPrefix, matchKiiRoute } from "./kii-routes.js";
import { pathOf } from "../request-path.js";

export type KiiUsersDeps = KiiRegistrationDeps & KiiUserReadingDeps & KiiUserUpdateDeps & KiiAddressVerificationDeps;

export interface KiiEndpointDeps {
  callers: KiiCallerDeps;
  users: KiiUsersDeps;
  /** Kii's token endpoint is ours (POST /oauth2/token), confined to the app's organization. */
  token: TokenEndpointDeps;
  maxBodyBytes: number;
  logger: Logger;
  calls: CallMetrics;
}

/** Answers requests under /api/apps/ and returns true; returns false, touching nothing, for every other path. */
export function createKiiEndpoint(deps: KiiEndpointDeps): (req: NodeRequest, res: NodeResponse) => boolean {
  return (req, res) => {
    const path = pathOf(req);
    if (!path.startsWith(kiiPathPrefix)) return false;
    const match = matchKiiRoute(req.method ?? "", path);
    observeHttpCall(req, res, { service: "Kii", method: kiiMethodNameOf(match), protocol: "kii" }, deps.calls);
    if (match.kind !== "route") {
      answerUnmatched(req, res, match);
      return true;
    }
    serveRoute(req, res, match.appId, match.route, deps).catch((error: unknown) => {
      if (error instanceof KiiError) return sendKiiError(req, res, error);
      if (error instanceof DomainError) return sendKiiError(req, res, kiiErrorOf(error, { appId: match.appId }));
      // A client that hung up mid-body is routine; the answer then goes nowhere.
      if (ConnectError.from(error).code !== Code.Canceled) deps.logger.error("Kii call failed", { requestId: callOf(req)?.requestId, error });
      const internal = new KiiError(500, "InternalServerErrorException", "INTERNAL_SERVER_ERROR", "Internal error", "INTERNAL");
      sendKiiError(req, res, internal);
    });
    return true;
  };
}

async function serveRoute(
  req: NodeRequest,
  res: NodeResponse,
  appId: string,
  route: KiiRoute,
  deps: KiiEndpointDeps,
): Promise<void> {
  const credentials = kiiCredentialsOf(req.headers.authorization);
  if (route.operation === "token") {
    const app = await authenticateTokenRequest(deps.callers, appId, credentials);
    return serveTokenRequest(req, res, deps.token, { organizationId: app.organizationId, jsonType: kiiJsonType });
  }
  const caller = await authenticateKiiCaller(deps.callers, appId, credentials);
  noteCall(req, { callerId: kiiActorOf(caller).callerId });
  const body = route.operation === "read-user" ? {} : await readKiiBody(req, deps.maxBodyBytes);
  // The security events of this request's use case name its request id in their log lines.
  const requestId = callOf(req)?.requestId;
  const recordSecurityEvent: SecurityRecorder = (event, _requestId, stored) => deps.users.recordSecurityEvent(event, requestId, stored);
  const users = { ...deps.users, recordSecurityEvent };
  sendKiiAnswer(res, await answer(route, caller, body, users));
}

async function answer(
  route: Exclude<KiiRoute, { operation: "token" }>,
  caller: KiiCaller,
  body: KiiBody,
  deps: KiiUsersDeps,
): Promise<KiiAnswer> {
  switch (route.operation) {
    case "register": {
      const user = await registerKiiUser(deps, caller, body);
      const location = `${kiiPathPrefix}${encodeURIComponent(caller.app.id)}/users/${encodeURIComponent(user.userID)}`;
      return { status: 201, type: "RegistrationResponse", body: user, headers: { location } };
    }
    case "read-user":
      return { status: 200, type: "UserDataRetrievalResponse", body: await readKiiUser(deps, caller, route.user) };
    case "update-user":
      return { status: 200, type: "UserUpdateResponse", body: await updateKiiUser(deps, caller, route.user, body) };
    case "verify":
      return {
        status: 200,
        type: "AddressVerificationResponse",
        body: await verifyKiiAddress(deps, caller, route.user, route.channel, body),
      };
    case "resend":
      await resendKiiVerification(deps, caller, route.user, route.channel, body);
      return { status: 204 };
    case "reset-code":
      return {
        status: 200,
        type: "ResetVerificationCodeResponse",
        body: await resetKiiVerificationCode(deps, caller, route.user, route.channel, body),
      };
  }
}

function answerUnmatched(req: NodeRequest, res: NodeResponse, match: Exclude<KiiRouteMatch, { kind: "route" }>): void {
  switch (match.kind) {
    case "not-found":
      return sendKiiError(
        req,
        res,
        new KiiError(
          404,
          "NotFoundException",
          "NOT_FOUND",
          "verifyd serves Kii's user and verification API only; no such path",
          "PATH_NOT_FOUND",
        ),
      );
    case "method-not-allowed":
      return sendKiiError(
        req,
        res,
        new KiiError(405, "MethodNotAllowedException", "METHOD_NOT_ALLOWED", `Use ${match.allow}`, "METHOD_NOT_ALLOWED"),
        { allow: match.allow },
      );
    case "unsupported-user-reference":
      return sendKiiError(
        req,
        res,
        new KiiError(
          400,
          "InvalidInputDataException",
          "INVALID_INPUT_DATA",
          "verifyd finds users by their id or \"me\"; LOGIN_NAME:, EMAIL: and PHONE: references are not supported",
          "USER_REFERENCE_UNSUPPORTED",
          { value: echoed(match.reference) },
        ),
      );
  }
}
