// Domain errors in Kii Cloud's form. The exceptions Kii's pages list keep Kii's status, content type and fields;
// what Kii does not list (expired or dead codes, lockouts, limits, bad input) gets the nearest Kii-style exception.
// Every body carries the domain's reason. Nothing secret goes in: Kii echoes the submitted code in
// INVALID_VERIFICATION_CODE, which would put a code into every log that keeps error bodies, so we leave it out.
import type { Channel, DomainError, ErrorKind } from "../../domain/errors.js";
import { KiiError, echoed, kiiInvalidInput, kiiUnauthorized } from "./kii-error.js";

/** What the call knew when it failed, for the fields of the answer. */
export interface KiiErrorContext {
  appId: string;
  /** The user the call is about, once known (for "me", the caller). */
  userId?: string;
  /** The contact the call is about. */
  channel?: Channel;
  /** The address each channel's refusal concerns: the one given, or the one awaiting verification. */
  addresses?: Partial<Record<Channel, string>>;
  loginName?: string;
  /** The user has no address on `channel` at all, which Kii tells apart from having one without a code. */
  addressless?: boolean;
  /** The caller, as Kii's UnauthorizedAccessException names it. */
  authenticated?: { appId?: string; principalId?: string };
}

const accountTypes: Record<Channel, string> = { phone: "PHONE", email: "EMAIL" };
const addressFields: Record<Channel, string> = { phone: "phoneNumber", email: "emailAddress" };

/** Input refusals, by the Kii field they concern. */
const invalidFieldOf: Readonly<Record<string, string>> = {
  PHONE_INVALID: "phoneNumber",
  PHONE_COUNTRY_NOT_ALLOWED: "phoneNumber",
  EMAIL_INVALID: "emailAddress",
  PASSWORD_TOO_WEAK: "password",
  CODE_BLANK: "verificationCode",
};

/** ZITADEL's fields whose text a Kii registration gives, by the Kii field it came in (login names are ASCII). */
const kiiTextFieldOf: Readonly<Record<string, string>> = {
  "profile.display_name": "displayName",
  "profile.preferred_language": "locale",
};

/** The submitted code cannot verify anything: Kii's wrong-code answer, with our reason saying why. */
const codeRefusals = new Set(["INVALID_VERIFICATION_CODE", "CODE_EXPIRED", "MAX_ATTEMPTS_REACHED", "NO_PENDING_CODE"]);

export function kiiErrorOf(error: DomainError, context: KiiErrorContext): KiiError {
  const { appId, userId } = context;
  const reason = error.reason;
  const message = error.message;
  const extra = numericMetadata(error);
  switch (reason) {
    case "USER_NOT_FOUND":
    // Kii's users are people: a service account is no user there.
    case "USER_NOT_HUMAN":
      return new KiiError(404, "UserNotFoundException", "USER_NOT_FOUND", message, reason, {
        field: "userID",
        value: echoed(userId ?? ""),
        appID: appId,
      });
    case "ALREADY_VERIFIED":
      return new KiiError(400, "InvalidAccountStatusException", "INVALID_ACCOUNT_STATUS", message, reason, {
        userID: userId ?? "",
        appID: appId,
        ...(context.channel ? { accountType: accountTypes[context.channel] } : {}),
      });
    case "PHONE_ALREADY_IN_USE":
    case "EMAIL_ALREADY_IN_USE": {
      const channel: Channel = reason === "PHONE_ALREADY_IN_USE" ? "phone" : "email";
      return addressInUse(message, reason, addressFields[channel], context.addresses?.[channel] ?? "");
    }
    case "USERNAME_TAKEN":
      return addressInUse(message, reason, "loginName", context.loginName ?? "");
    case "CODE_DELIVERY_DISABLED": {
      // Kii has no way to ask for the code instead (ZITADEL's return_code), so the address is what cannot be used.
      const channel = error.metadata.channel === "phone" ? "phone" : "email";
      const refusal = `This server does not send codes by ${channel === "phone" ? "SMS" : "email"}`;
      return kiiInvalidInput({ [addressFields[channel]]: refusal }, reason, refusal);
    }
    case "USER_DISABLED":
      // Kii spells this one field with a capital U.
      return new KiiError(401, "UserDisabledException", "USER_DISABLED", message, reason, { UserID: userId ?? "", appID: appId });
  }
  if (codeRefusals.has(reason)) {
    if (reason === "NO_PENDING_CODE" && context.addressless) {
      // The missing thing is the address, not a code.
      const missing = context.channel === "phone" ? "The user has no phone number" : "The user has no email address";
      return new KiiError(404, "UserWithoutAddressException", "USER_ADDRESS_NOT_FOUND", missing, reason, {
        userID: userId ?? "",
        appID: appId,
      });
    }
    return new KiiError(403, "InvalidVerificationCodeException", "INVALID_VERIFICATION_CODE", message, reason, {
      userID: userId ?? "",
      appID: appId,
      ...extra,
    });
  }
  const field = invalidFieldOf[reason];
  if (field) return kiiInvalidInput({ [field]: error.metadata.detail ?? error.text }, reason, message);
  const textField = kiiTextFieldOf[error.metadata.field ?? ""];
  if (reason === "TEXT_INVALID" && textField) {
    // The domain names ZITADEL's field ("profile.display_name may not …"); Kii's client sent another name.
    const problem = error.text.slice((error.metadata.field ?? "").length).trim();
    return kiiInvalidInput({ [textField]: problem }, reason, `${textField} ${problem}`);
  }
  return byKind(error, context, extra);
}

function addressInUse(message: string, reason: string, field: string, value: string): KiiError {
  return new KiiError(409, "AddressAlreadyInUseException", "USER_ALREADY_EXISTS", message, reason, { field, value });
}

/** The nearest Kii-style answer for everything else, by what kind of refusal it is. */
function byKind(error: DomainError, context: KiiErrorContext, extra: Record<string, unknown>): KiiError {
  const { reason, message } = error;
  const fields = { ...(error.metadata.limit === undefined ? {} : { limit: error.metadata.limit }), ...extra };
  const retryAfterSeconds = error.retryAfterMs === undefined ? undefined : Math.ceil(error.retryAfterMs / 1000);
  const kinds: Record<ErrorKind, () => KiiError> = {
    InvalidArgument: () => kiiInvalidInput({}, reason, message),
    NotFound: () => new KiiError(404, "NotFoundException", "NOT_FOUND", message, reason),
    AlreadyExists: () => new KiiError(409, "ConflictException", "CONFLICT", message, reason),
    FailedPrecondition: () =>
      new KiiError(400, "InvalidAccountStatusException", "INVALID_ACCOUNT_STATUS", message, reason, {
        userID: context.userId ?? "",
        appID: context.appId,
      }),
    ResourceExhausted: () =>
      new KiiError(429, "TooManyRequestsException", "TOO_MANY_REQUESTS", message, reason, fields, retryAfterSeconds),
    Aborted: () => new KiiError(409, "ConflictException", "CONFLICT", message, reason),
    Unavailable: () => new KiiError(503, "ServiceUnavailableException", "SERVICE_UNAVAILABLE", message, reason, {}, retryAfterSeconds),
    Unauthenticated: () => kiiUnauthorized(message, reason, context.authenticated),
    // Kii answers a call that the credentials do not allow (an administrator's, say) with 401 UNAUTHORIZED.
    PermissionDenied: () => {
      const { permission } = error.metadata;
      return kiiUnauthorized(message, reason, context.authenticated, permission === undefined ? {} : { permission });
    },
  };
  return kinds[error.kind]();
}

/** Counts our metadata carries as text, as JSON numbers. The retry wait travels apart (header and field). */
function numericMetadata(error: DomainError): Record<string, number> {
  const numeric: Record<string, number> = {};
  for (const name of ["attemptsLeft", "lockedForSeconds"]) {
    const value = error.metadata[name];
    if (value !== undefined) numeric[name] = Number(value);
  }
  return numeric;
}
