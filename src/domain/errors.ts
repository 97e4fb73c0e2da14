// Domain errors carry everything every protocol needs to report them the same way: a gRPC-style kind, ZITADEL's
// error id and text ("<text> (<id>)" on the wire), a stable upper-case reason and machine-readable metadata.
import type { SecurityEventInput } from "./security/security-event.js";

export type ErrorKind =
  | "InvalidArgument"
  | "NotFound"
  | "AlreadyExists"
  | "FailedPrecondition"
  | "ResourceExhausted"
  | "Aborted"
  | "Unavailable"
  | "Unauthenticated"
  | "PermissionDenied";

/** Builds an error without capturing a stack trace, for refusals that are answers rather than faults. */
export function withoutStackTrace<T>(build: () => T): T {
  const stackTraceLimit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return build();
  } finally {
    Error.stackTraceLimit = stackTraceLimit;
  }
}

export class DomainError extends Error {
  readonly kind: ErrorKind;
  /** ZITADEL's error id where ZITADEL has one, e.g. "COMMAND-eis9R"; our own stable id otherwise. */
  readonly id: string;
  /** The human text without the id. */
  readonly text: string;
  /** A stable upper-case reason, e.g. "INVALID_VERIFICATION_CODE". */
  readonly reason: string;
  readonly metadata: Readonly<Record<string, string>>;
  /** How long until the same call may succeed: a google.rpc.RetryInfo on every protocol, Retry-After on REST. */
  readonly retryAfterMs: number | undefined;
  /**
   * The security log's entries for this refusal, set once they are committed with the change that records it (a wrong
   * code's failed attempt): what reports the refusal then writes their log lines only, without deciding them again.
   * Not a constructor argument: the refusal is decided before the store's commit that settles it.
   */
  loggedSecurityEvents: readonly SecurityEventInput[] | undefined;

  constructor(
    kind: ErrorKind,
    id: string,
    text: string,
    reason: string,
    metadata: Readonly<Record<string, string>> = {},
    retryAfterMs?: number,
  ) {
    // A refusal is an answer, not a fault: nobody reads its stack, and capturing one was 3% of the CPU of a wrong
    // code's VerifyPhone (`npm run bench -- --profile`).
    const stackTraceLimit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super(`${text} (${id})`);
    Error.stackTraceLimit = stackTraceLimit;
    this.name = "DomainError";
    this.kind = kind;
    this.id = id;
    this.text = text;
    this.reason = reason;
    this.metadata = metadata;
    this.retryAfterMs = retryAfterMs;
  }
}

/** The reason of errors.contactInUse, for telling that error apart without building one. */
export function contactInUseReason(channel: Channel): string {
  return channel === "phone" ? "PHONE_ALREADY_IN_USE" : "EMAIL_ALREADY_IN_USE";
}

export const errors = {
  userNotFound: () => new DomainError("NotFound", "QUERY-Dfbg2", "User could not be found", "USER_NOT_FOUND"),
  userAlreadyExists: () =>
    new DomainError("FailedPrecondition", "COMMAND-7yiox1isql", "User already exists", "USER_ALREADY_EXISTS"),
  usernameTaken: () =>
    new DomainError("AlreadyExists", "COMMAND-k2unb", "Username already taken", "USERNAME_TAKEN"),
  organizationNotFound: () =>
    new DomainError("NotFound", "COMMAND-4g3xq", "Organization not found", "ORGANIZATION_NOT_FOUND"),
  phoneInvalid: (detail: string) =>
    new DomainError("InvalidArgument", "PHONE-so0wa", "Phone is invalid", "PHONE_INVALID", { detail }),
  emailInvalid: () => new DomainError("InvalidArgument", "EMAIL-599BI", "Email is invalid", "EMAIL_INVALID"),
  textInvalid: (field: string, problem: string) =>
    new DomainError("InvalidArgument", "USER-t3xt1", `${field} ${problem}`, "TEXT_INVALID", { field }),
  urlTemplateInvalid: (detail: string) =>
    new DomainError("InvalidArgument", "DOMAIN-oGh5e", "URL template is invalid", "URL_TEMPLATE_INVALID", { detail }),
  contactNotChanged: (channel: Channel) =>
    new DomainError("FailedPrecondition", "COMMAND-Uch5e", `${label(channel)} not changed`, "NOT_CHANGED"),
  contactNotFound: (channel: Channel) =>
    new DomainError("FailedPrecondition", "COMMAND-ieJ2e", `${label(channel)} not found`, "CONTACT_NOT_FOUND"),
  /** `lockedForMs`: this wrong code locked the contact for that long. */
  codeInvalid: (attemptsLeft: number, lockedForMs?: number) =>
    new DomainError("InvalidArgument", "COMMAND-eis9R", "Code is invalid", "INVALID_VERIFICATION_CODE", {
      attemptsLeft: String(attemptsLeft),
      ...(lockedForMs === undefined ? {} : { lockedForSeconds: String(Math.ceil(lockedForMs / 1000)) }),
    }),
  /** A code of nothing but spaces and line breaks: no code, refused before it is judged or counted. */
  codeBlank: () => new DomainError("InvalidArgument", "CODE-bl4nk", "Code is empty once its spaces and invisible characters are removed", "CODE_BLANK"),
  codeExpired: () => new DomainError("FailedPrecondition", "CODE-QvUQ4P", "Code is expired", "CODE_EXPIRED"),
  maxAttemptsReached: () =>
    new DomainError(
      "ResourceExhausted",
      "COMMAND-8ijdw",
      "Too many wrong codes; request a new code",
      "MAX_ATTEMPTS_REACHED",
    ),
  tooManyFailures: (retryAfterMs: number) =>
    new DomainError(
      "ResourceExhausted",
      "COMMAND-3kcud",
      "Too many failed verifications; try again later",
      "TOO_MANY_FAILURES",
      { retryAfterSeconds: String(Math.ceil(retryAfterMs / 1000)) },
      retryAfterMs,
    ),
  /**
   * A read of a list ran past its budget: no index serves a text query on an email or phone, or a sort by one of them,
   * so such a read looks at every user the caller may read (over 300,000 users one contains query took 0.3 s a read
   * on SQLite, 99 of them 5 s, holding the thread that serves every call). The caller's query costs too much; the
   * storage is fine.
   */
  listTooCostly: (budgetMs: number) =>
    new DomainError(
      "ResourceExhausted",
      "QUERY-c0stL",
      `The list needs more than ${budgetMs} ms to read; narrow it with an organization or user id query or fewer text queries, or sort it by creation date`,
      "LIST_TOO_COSTLY",
      { budgetMs: String(budgetMs) },
    ),
  noPendingCode: () => new DomainError("FailedPrecondition", "COMMAND-2M9fs", "Code not found", "NO_PENDING_CODE"),
  alreadyVerified: (channel: Channel) =>
    new DomainError("FailedPrecondition", "COMMAND-ahs0u", `${label(channel)} already verified`, "ALREADY_VERIFIED"),
  /**
   * A new code asked for (ResendPhoneCode, ResendEmailCode, SendEmailCode) where no address awaits verification:
   * ZITADEL's id and words ("Code is empty"), so that its clients recognise it, with our reason and what is the case.
   */
  nothingToResend: (channel: Channel, verified: boolean) =>
    new DomainError(
      "FailedPrecondition",
      channel === "phone" ? "PHONE-5xrra88eq8" : "EMAIL-5w5ilin4yt",
      verified ? `Code is empty; the ${label(channel).toLowerCase()} is already verified` : `Code is empty; no ${label(channel).toLowerCase()} awaits verification`,
      verified ? "ALREADY_VERIFIED" : "NO_PENDING_CODE",
    ),
  concurrentUpdate: () =>
    new DomainError("Aborted", "COMMAND-0w1ir", "The user changed concurrently; try again", "CONCURRENT_UPDATE"),
  unauthenticated: () =>
    new DomainError("Unauthenticated", "AUTH-7fs1e", "Not authenticated; send Authorization: Bearer <token>", "UNAUTHENTICATED"),
  permissionDenied: (permission: string) =>
    new DomainError("PermissionDenied", "AUTH-AWfge", "No matching permissions found", "PERMISSION_DENIED", { permission }),
  userDisabled: () =>
    new DomainError("FailedPrecondition", "USER-d1sab", "User is deactivated or locked", "USER_DISABLED"),
  userNotMachine: () =>
    new DomainError("FailedPrecondition", "COMMAND-Sdqc4", "User is not a service account", "USER_NOT_MACHINE"),
  userNotHuman: () => new DomainError("FailedPrecondition", "USER-n0tHm", "User is not a person", "USER_NOT_HUMAN"),
  /** A phone or email call on a service account, which has neither: ZITADEL's NotFound for it, with our reason. */
  contactOfServiceAccount: (channel: Channel) =>
    new DomainError("NotFound", "COMMAND-ieJ2e", `${label(channel)} not found`, "USER_NOT_HUMAN"),
  /** A phone or email call on a user that does not exist, or that the caller may not see: ZITADEL's answer for both. */
  contactOfUnknownUser: (channel: Channel) =>
    new DomainError("NotFound", "COMMAND-ieJ2e", `${label(channel)} not found`, "USER_NOT_FOUND"),
  /** `needed`: the status the change starts from, when the user is in neither it nor the one the change leads to. */
  userStateNotChanged: (state: string, needed?: string) =>
    new DomainError(
      "FailedPrecondition",
      "COMMAND-2M0sd",
      needed === undefined ? `User is already ${state}` : `User is ${state}, not ${needed}`,
      "USER_STATE_NOT_CHANGED",
    ),
  organizationNameTaken: () =>
    new DomainError("AlreadyExists", "ORG-lapo2m", "Organization already exists", "ORGANIZATION_ALREADY_EXISTS"),
  tokenNotFound: () =>
    new DomainError("NotFound", "COMMAND-4m77G", "Personal access token not found", "TOKEN_NOT_FOUND"),
  passwordInvalid: () => new DomainError("InvalidArgument", "COMMAND-3M0fs", "Password is invalid", "PASSWORD_INVALID"),
  passwordTooWeak: (detail: string) =>
    new DomainError("InvalidArgument", "DOMAIN-VoaRj", "Password is too weak", "PASSWORD_TOO_WEAK", { detail }),
  hashedPasswordUnsupported: () =>
    new DomainError(
      "InvalidArgument",
      "COMMAND-h8pr2",
      "Hashed password format not supported; give an argon2id hash in PHC format",
      "HASHED_PASSWORD_UNSUPPORTED",
    ),
  administratorNotFound: () =>
    new DomainError("NotFound", "COMMAND-wo1ek", "Administrator not found", "ADMINISTRATOR_NOT_FOUND"),
  administratorExists: () =>
    new DomainError("AlreadyExists", "COMMAND-Di8rs", "Administrator already exists", "ADMINISTRATOR_ALREADY_EXISTS"),
  passwordChecksThrottled: (retryAfterMs: number) =>
    new DomainError(
      "ResourceExhausted",
      "AUTH-pw7hr",
      "Too many wrong passwords; try again later",
      "PASSWORD_CHECKS_THROTTLED",
      { retryAfterSeconds: String(Math.ceil(retryAfterMs / 1000)) },
      retryAfterMs,
    ),
  sendLimitReached: (limit: string, retryAfterMs: number) =>
    new DomainError(
      "ResourceExhausted",
      "LIMIT-s3ndL",
      limit === "send_cooldown"
        ? "A code was sent moments ago; wait before asking for another"
        : "Too many codes sent; try again later",
      "SEND_LIMIT_REACHED",
      { limit, retryAfterSeconds: String(Math.ceil(retryAfterMs / 1000)) },
      retryAfterMs,
    ),
  verifyLimitReached: (limit: string, retryAfterMs: number) =>
    new DomainError(
      "ResourceExhausted",
      "LIMIT-v3rfL",
      "Too many verification attempts for this user; try again later",
      "VERIFY_LIMIT_REACHED",
      { limit, retryAfterSeconds: String(Math.ceil(retryAfterMs / 1000)) },
      retryAfterMs,
    ),
  contactInUse: (channel: Channel) =>
    new DomainError(
      "AlreadyExists",
      channel === "phone" ? "COMMAND-pH0nU" : "COMMAND-eM4iU",
      `${label(channel)} is already verified by another user of this organization`,
      contactInUseReason(channel),
    ),
  phoneCountryNotAllowed: (callingCode: string) =>
    new DomainError(
      "InvalidArgument",
      "PHONE-c0unT",
      `The organization does not send SMS to country code +${callingCode}`,
      "PHONE_COUNTRY_NOT_ALLOWED",
      { callingCode },
    ),
  /** `limits`: the names of the limits that would be loosened, e.g. "sends_per_caller_hour". */
  limitRaiseDenied: (limits: readonly string[]) =>
    new DomainError(
      "PermissionDenied",
      "AUTHZ-l1mRs",
      "Only an IAM_OWNER may loosen a limit beyond the instance's default",
      "LIMIT_RAISE_DENIED",
      { limits: limits.join(",") },
    ),
  testContactsDisabled: () =>
    new DomainError(
      "FailedPrecondition",
      "SETTINGS-t3stC",
      "This server does not honour test contacts; in production, start it with --test-contacts",
      "TEST_CONTACTS_DISABLED",
    ),
  userIdChoiceDenied: () =>
    new DomainError(
      "PermissionDenied",
      "AUTHZ-u1dCh",
      "Only an IAM_OWNER may choose a user's id; leave user_id empty for a generated one",
      "USER_ID_CHOICE_DENIED",
    ),
  lastInstanceOwner: () =>
    new DomainError(
      "FailedPrecondition",
      "COMMAND-Ju2dt",
      "The instance must keep an IAM_OWNER; grant the role to someone else first",
      "LAST_INSTANCE_OWNER",
    ),
  roleInvalid: (role: string) =>
    new DomainError("InvalidArgument", "COMMAND-3M9sd", `Role ${role} does not exist on this resource`, "ROLE_INVALID", { role }),
  applicationNotFound: () =>
    new DomainError("NotFound", "APP-n0tFd", "Application not found", "APPLICATION_NOT_FOUND"),
  codeDeliveryDisabled: (channel: Channel) =>
    new DomainError(
      "FailedPrecondition",
      "DELIVERY-n0Snd",
      `This server does not send codes by ${channel === "phone" ? "SMS" : "email"}; ask for the code with return_code`,
      "CODE_DELIVERY_DISABLED",
      { channel },
    ),
  /** Every password check the server runs at once is running, and as many again are waiting for one (--password-checks-*). */
  passwordChecksBusy: () =>
    new DomainError(
      "Unavailable",
      "AUTH-pw8sy",
      "Too many password checks at once; try again shortly",
      "PASSWORD_CHECKS_BUSY",
      { retryAfterSeconds: "1" },
      1_000,
    ),
  // A second is about how long the server takes to notice that its storage works again (storage-health.ts).
  storageUnavailable: () =>
    new DomainError("Unavailable", "STORAGE-n4fUl", "Storage is unavailable; try again later", "STORAGE_UNAVAILABLE", {}, 1_000),
  storageBusy: () =>
    new DomainError(
      "Unavailable",
      "STORAGE-b5Yq2",
      "Storage is busy: the database did not answer in time (a lock held by another session, or all connections in use); try again shortly",
      "STORAGE_BUSY",
      {},
      1_000,
    ),
} as const;

export type Channel = "phone" | "email";

function label(channel: Channel): string {
  return channel === "phone" ? "Phone" : "Email";
}
