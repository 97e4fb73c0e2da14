// An error as Kii Cloud answers it: an HTTP status, a content type naming the exception
// (application/vnd.kii.<Exception>+json) and a JSON body with errorCode, message and the exception's own fields. Ours
// adds `reason`, the stable reason the ZITADEL API gives for the same refusal, so a client can tell apart what Kii
// lumps together (an expired code and a wrong one, say).

export class KiiError extends Error {
  constructor(
    readonly status: number,
    /** The exception's name, as in its content type: "UserNotFoundException". */
    readonly exception: string,
    readonly errorCode: string,
    message: string,
    /** The domain error's reason, or the transport's for a refusal before the domain was asked. */
    readonly reason: string,
    /** The exception's fields besides errorCode and message; never a secret. */
    readonly fields: Readonly<Record<string, unknown>> = {},
    /** When to try again, for refusals that pass with time (a Retry-After header too). */
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
    this.name = "KiiError";
  }

  body(): Record<string, unknown> {
    return {
      errorCode: this.errorCode,
      message: this.message,
      ...this.fields,
      ...(this.retryAfterSeconds === undefined ? {} : { retryAfterSeconds: this.retryAfterSeconds }),
      reason: this.reason,
    };
  }
}

/** The longest part of a request an error quotes back: ids are at most 200 characters, as in the ZITADEL API. */
const longestEcho = 200;

/** `value` as an error quotes it: whole up to 200 characters, else its start and an ellipsis. */
export function echoed(value: string): string {
  return value.length <= longestEcho ? value : `${value.slice(0, longestEcho)}…`;
}

/** Who the refused credentials were found to be, as Kii's UnauthorizedAccessException names them. */
export interface Authenticated {
  appId?: string;
  principalId?: string;
}

/** 401 UNAUTHORIZED: no credentials, bad ones, or ones that do not allow the call (Kii's answer to non-administrators). */
export function kiiUnauthorized(
  message: string,
  reason: string,
  authenticated: Authenticated = {},
  fields: Record<string, unknown> = {},
): KiiError {
  return new KiiError(401, "UnauthorizedAccessException", "UNAUTHORIZED", message, reason, {
    ...(authenticated.appId === undefined ? {} : { authenticatedAppID: authenticated.appId }),
    ...(authenticated.principalId === undefined ? {} : { authenticatedPrincipalID: authenticated.principalId }),
    ...fields,
  });
}

/** 400 INVALID_INPUT_DATA, naming each refused field with what is wrong with it. */
export function kiiInvalidInput(
  invalidFields: Readonly<Record<string, string>>,
  reason = "INVALID_INPUT_DATA",
  message = `Invalid input data: ${Object.keys(invalidFields).join(", ")}`,
): KiiError {
  return new KiiError(400, "InvalidInputDataException", "INVALID_INPUT_DATA", message, reason, { invalidFields });
}
