// Every call but health checks and server reflection needs a bearer token (the login endpoint, where tokens come
// from, is served before). It is checked here, from the headers alone, before anything reads or decodes the body: an
// unauthenticated caller cannot make the server parse, decompress or buffer anything.
// The caller found travels into the call through its context values.
import { Code, ConnectError, type ContextValues } from "@connectrpc/connect";
import { toConnectError } from "../api/connect-errors.js";
import { callOf } from "../call-scope.js";
import { principalKey } from "../api/request-context.js";
import type { Principal } from "../domain/access/principal.js";
import { DomainError, errors } from "../domain/errors.js";
import type { Authenticator } from "../domain/ports.js";
import type { Logger } from "../logger.js";
import type { NodeHandler, NodeRequest, NodeResponse } from "./call-context.js";
import type { RefusedCallObserver } from "./called-method.js";
import { answerError } from "./error-answer.js";
import { isHealthCheck } from "./health-check-request.js";
import { isReflectionCall } from "./reflection-request.js";

// RFC 6750's b64token after the case-insensitive scheme.
const bearerCredentials = /^bearer +([\w\-.~+/]+=*) *$/i;

// On the request rather than in a WeakMap keyed by it, which would have every principal promoted (call-scope.ts).
const principalOfRequest = Symbol("verifyd principal");
type WithPrincipal = NodeRequest & { [principalOfRequest]?: Principal };

export interface AuthenticationOptions {
  authenticator: Authenticator;
  logger: Logger;
  /** Told of each call answered here instead of by the handler, with its code and how long it took. */
  onRefused: RefusedCallObserver;
}

/** Lets requests with a valid token through to `handler`; answers all others Unauthenticated, with WWW-Authenticate. */
export function withAuthentication({ authenticator, logger, onRefused }: AuthenticationOptions, handler: NodeHandler): NodeHandler {
  // Made once, not per call: most calls come with a valid token and never need them.
  const refuse = (
    req: NodeRequest,
    res: NodeResponse,
    started: number,
    error: ConnectError,
    headers: Record<string, string> = {},
  ) => {
    onRefused(req, error.code, (performance.now() - started) / 1000);
    answerError(req, res, error, { headers });
  };
  const refuseUnauthenticated = (req: NodeRequest, res: NodeResponse, started: number) =>
    refuse(req, res, started, toConnectError(errors.unauthenticated()), { "www-authenticate": "Bearer" });
  const refuseFailure = (req: NodeRequest, res: NodeResponse, started: number, error: unknown) => {
    if (error instanceof DomainError) return refuse(req, res, started, toConnectError(error));
    logger.error("authentication failed", { requestId: callOf(req)?.requestId, error });
    refuse(req, res, started, new ConnectError("internal error", Code.Internal));
  };
  return (req, res) => {
    if (isHealthCheck(req) || isReflectionCall(req)) return handler(req, res);
    const started = performance.now();
    const token = bearerTokenOf(req.headers.authorization);
    if (token === undefined) return refuseUnauthenticated(req, res, started);
    authenticator.authenticate(token).then(
      (principal) => {
        if (!principal) return refuseUnauthenticated(req, res, started);
        (req as WithPrincipal)[principalOfRequest] = principal;
        handler(req, res);
      },
      (error: unknown) => refuseFailure(req, res, started, error),
    );
  };
}

/** The context values of a call, with the caller the request was authenticated as (none for health, reflection and login). */
export function withPrincipal(req: NodeRequest, values: ContextValues): ContextValues {
  return values.set(principalKey, (req as WithPrincipal)[principalOfRequest]);
}

function bearerTokenOf(authorization: string | undefined): string | undefined {
  return authorization === undefined ? undefined : bearerCredentials.exec(authorization)?.[1];
}

