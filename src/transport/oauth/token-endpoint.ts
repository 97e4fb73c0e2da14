// POST /oauth2/token with the password grant: a person's login name and password for a bearer token. Answers follow
// RFC 6749 §5: every refusal of the credentials is the same invalid_grant, whatever the reason. Neither the body
// nor the answer is ever logged: one holds a password, the other a token. The security log gets the outcome, the
// login name and the client's address.
import { Code, ConnectError } from "@connectrpc/connect";
import type { SecurityRecorder } from "../../api/security-recorder.js";
import { callOf } from "../../call-scope.js";
import type { LoginResult, PasswordLogin } from "../../domain/credentials/password-login.js";
import type { SecurityEventInput } from "../../domain/security/security-event.js";
import { holdsControlCharacter } from "../../domain/control-characters.js";
import { DomainError } from "../../domain/errors.js";
import { maxLoginNameLength } from "../../domain/credentials/login-name.js";
import type { Logger } from "../../logger.js";
import type { CallMetrics } from "../../metrics/call-metrics.js";
import type { NodeRequest, NodeResponse } from "../call-context.js";
import { observeHttpCall } from "../http-call-metrics.js";
import { clientKeyOf } from "../listener-per-client-limit.js";
import { type LoginsPerClient, createLoginsPerClient } from "./logins-per-client.js";
import { clientAddressOf } from "../client-address.js";
import { pathOf } from "../request-path.js";
import { headersAfterOversizedBody, readBodyWithin } from "../rest/request-body.js";
import { parseTokenRequest } from "./token-request.js";

export const tokenPath = "/oauth2/token";

export interface TokenEndpointDeps {
  login: Pick<PasswordLogin, "login">;
  recordSecurityEvent: SecurityRecorder;
  maxBodyBytes: number;
  /** Refuse a login that names no organization (--logins-need-organization). */
  loginsNeedOrganization: boolean;
  /** Logins under way per client, each a password check running or waiting, and the client's line behind them. */
  loginsUnderWay: LoginsPerClient;
  logger: Logger;
}

interface TokenAnswer {
  status: number;
  body: Record<string, string | number>;
  headers?: Record<string, string>;
}

const wrongCredentials: TokenAnswer = {
  status: 400,
  body: { error: "invalid_grant", error_description: "The username or password is wrong" },
};

/**
 * A client's share of the password checks: a tenth of the places running and waiting, at least one, so that no client
 * fills the queue everyone waits in; its line behind them as long as the queue's own.
 */
export function loginsPerClient(checks: { atOnce: number; waiting: number }): LoginsPerClient {
  return createLoginsPerClient(Math.max(1, Math.floor((checks.atOnce + checks.waiting) / 10)), checks.waiting);
}

function clientLeft(req: NodeRequest): boolean {
  return "stream" in req ? req.stream.destroyed : req.socket.destroyed;
}

const tooManyFromClient: TokenAnswer = {
  status: 429,
  body: { error: "slow_down", error_description: "Too many logins under way and waiting from this address; try again shortly" },
  headers: { "retry-after": "1" },
};

const invalidRequest = (description: string, status = 400): TokenAnswer => ({
  status,
  body: { error: "invalid_request", error_description: description },
});

/**
 * Answers requests for /oauth2/token and returns true; returns false, touching nothing, for every other path. Each
 * is counted in the call metrics as OAuth/Token, by its HTTP status.
 */
export function createTokenEndpoint(deps: TokenEndpointDeps & { calls: CallMetrics }): (req: NodeRequest, res: NodeResponse) => boolean {
  return (req, res) => {
    if (pathOf(req) !== tokenPath) return false;
    observeHttpCall(req, res, { service: "OAuth", method: "Token", protocol: "oauth" }, deps.calls);
    serveTokenRequest(req, res, deps);
    return true;
  };
}

/** Where a token request arrives other than at /oauth2/token: Kii's token endpoint, where the app stands for the organization. */
export interface TokenRequestScope {
  /** Confines the login to one organization whatever the request says; without it the request may name one. */
  organizationId?: string;
  /** The JSON media types taken besides a form; application/json by default. */
  jsonType?: RegExp;
}

/** Answers one token request. */
export function serveTokenRequest(req: NodeRequest, res: NodeResponse, deps: TokenEndpointDeps, scope: TokenRequestScope = {}): void {
  answer(req, deps, scope)
    .catch((error: unknown): TokenAnswer => {
      if (error instanceof DomainError && error.kind === "Unavailable") {
        const retryAfter = error.retryAfterMs === undefined ? {} : { headers: { "retry-after": String(Math.ceil(error.retryAfterMs / 1000)) } };
        return { status: 503, body: { error: "temporarily_unavailable", error_description: error.text }, ...retryAfter };
      }
      // A client that hung up mid-body is routine; the answer then goes nowhere.
      if (ConnectError.from(error).code !== Code.Canceled) deps.logger.error("token endpoint failed", { requestId: callOf(req)?.requestId, error });
      return { status: 500, body: { error: "server_error" } };
    })
    .then((reply) => send(res, reply));
}

/** The contract's limit for every id (`buf.validate`: 1 to 200 characters). */
const maxOrganizationIdLength = 200;

async function answer(req: NodeRequest, deps: TokenEndpointDeps, scope: TokenRequestScope): Promise<TokenAnswer> {
  if (req.method !== "POST") return { ...invalidRequest("use POST", 405), headers: { allow: "POST" } };
  const encoding = req.headers["content-encoding"];
  if (encoding !== undefined && encoding.trim().toLowerCase() !== "identity") {
    return invalidRequest("send the body without a content encoding");
  }
  const body = await readBodyWithin(req, req.headers["content-length"], deps.maxBodyBytes);
  if (body === undefined) {
    const reply = invalidRequest(`request body larger than ${deps.maxBodyBytes} bytes`, 413);
    return { ...reply, headers: headersAfterOversizedBody(req) };
  }
  const parameters = parseTokenRequest(req.headers["content-type"], body, scope.jsonType);
  if (!parameters) return invalidRequest("send application/x-www-form-urlencoded or a JSON object, each parameter once and as a string");
  // RFC 6749 §5.2: a missing parameter is an invalid request; only a grant this server lacks is unsupported.
  if (!parameters.has("grant_type")) return invalidRequest("grant_type is required; use grant_type=password");
  if (parameters.get("grant_type") !== "password") {
    return { status: 400, body: { error: "unsupported_grant_type", error_description: "only grant_type=password is supported" } };
  }
  const username = parameters.get("username");
  const password = parameters.get("password");
  if (!username || password === undefined) return invalidRequest("username and password are required");
  // Refused before anything reads, counts or logs them: no user has such a name or id, and a name of 64 KiB cost the
  // log's redaction seconds per line (a white-box review's finding).
  if (username.length > maxLoginNameLength) return invalidRequest(`username is longer than ${maxLoginNameLength} characters; no login name is`);
  // Nor does any name or id hold a control character (control-characters.ts), which PostgreSQL could not even compare.
  if (holdsControlCharacter(username)) return invalidRequest("username holds a control character; no login name does");

  const organizationId = scope.organizationId ?? (parameters.get("organization_id") || undefined);
  if (organizationId !== undefined && organizationId.length > maxOrganizationIdLength) {
    return invalidRequest(`organization_id is longer than ${maxOrganizationIdLength} characters; no id is`);
  }
  if (organizationId !== undefined && holdsControlCharacter(organizationId)) {
    return invalidRequest("organization_id holds a control character; no id does");
  }
  if (organizationId === undefined && deps.loginsNeedOrganization) {
    return invalidRequest("organization_id is required: this server logs in within one organization only");
  }
  const clientAddress = clientAddressOf(req);
  const client = clientKeyOf(clientAddress ?? "");
  if (!(await deps.loginsUnderWay.enter(client))) {
    const reached = { kind: "limit.reached", detail: { reason: "LOGINS_UNDER_WAY_FROM_CLIENT" } } as const;
    await deps.recordSecurityEvent(clientAddress === undefined ? reached : { ...reached, clientAddress }, callOf(req)?.requestId);
    return tooManyFromClient;
  }
  let result: LoginResult;
  try {
    // A login that waited in its client's line for a client now gone would cost a password check for nobody.
    if (clientLeft(req)) throw new ConnectError("the client left while its login waited", Code.Canceled);
    result = await deps.login.login(username, password, organizationId);
  } finally {
    deps.loginsUnderWay.leave(client);
  }
  await deps.recordSecurityEvent(securityEventOf(result, { loginName: username, clientAddress, organizationId }), callOf(req)?.requestId);
  switch (result.outcome) {
    case "granted":
      return {
        status: 200,
        body: { id: result.userId, access_token: result.token, expires_in: result.expiresInSeconds, token_type: "bearer" },
      };
    case "throttled":
      return {
        status: 429,
        body: { error: "slow_down", error_description: "Too many failed logins for this name; try again later" },
        headers: { "retry-after": String(result.retryAfterSeconds) },
      };
    case "refused":
      return wrongCredentials;
  }
}

function securityEventOf(
  result: LoginResult,
  attempt: { loginName: string; clientAddress: string | undefined; organizationId: string | undefined },
): SecurityEventInput {
  const { loginName, clientAddress, organizationId } = attempt;
  const where = {
    ...(clientAddress === undefined ? {} : { clientAddress }),
    ...(organizationId === undefined ? {} : { organizationId }),
  };
  switch (result.outcome) {
    case "granted":
      // From here on the caller is this user, of its organization whether or not the login named it.
      return {
        kind: "login.succeeded",
        ...where,
        actorId: result.userId,
        userId: result.userId,
        organizationId: result.organizationId,
        detail: { loginName },
      };
    case "refused":
      // A name nobody has is not kept (nor the organization the client named): a flood of made-up names then counts
      // on one entry per client address instead of adding one per name.
      if (result.reason === "LOGIN_NAME_UNKNOWN") {
        return { kind: "login.failed", ...(clientAddress === undefined ? {} : { clientAddress }), detail: { reason: result.reason } };
      }
      return {
        kind: "login.failed",
        ...where,
        ...(result.userId === undefined ? {} : { userId: result.userId }),
        ...(result.organizationId === undefined ? {} : { organizationId: result.organizationId }),
        detail: { loginName, reason: result.reason },
      };
    case "throttled":
      return { kind: "limit.reached", ...where, detail: { loginName, reason: "PASSWORD_CHECKS_THROTTLED" } };
  }
}

function send(res: NodeResponse, reply: TokenAnswer): void {
  const text = JSON.stringify(reply.body);
  res.writeHead(reply.status, {
    "content-type": "application/json;charset=utf-8",
    "content-length": String(Buffer.byteLength(text)),
    // RFC 6749 §5.1: a token must not be kept by caches.
    "cache-control": "no-store",
    pragma: "no-cache",
    ...reply.headers,
  });
  res.end(text);
}
