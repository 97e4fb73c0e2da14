// Every domain error a Kii call can end in has a Kii-style answer with our reason; the ones the end-to-end tests
// cannot provoke cheaply (storage down, a lost race, a service account) are checked here.
import { describe, expect, it } from "vitest";
import { kiiErrorOf } from "../../src/api/kii/kii-error-mapping.js";
import { type DomainError, errors } from "../../src/domain/errors.js";

const context = { appId: "app1", userId: "u1", channel: "phone" as const, authenticated: { appId: "app1", principalId: "p1" } };

const cases: [string, DomainError, number, string, Record<string, unknown>][] = [
  ["storage unavailable", errors.storageUnavailable(), 503, "ServiceUnavailableException", { errorCode: "SERVICE_UNAVAILABLE" }],
  ["a lost race", errors.concurrentUpdate(), 409, "ConflictException", { errorCode: "CONFLICT" }],
  ["a service account", errors.userNotHuman(), 404, "UserNotFoundException", { field: "userID", value: "u1", appID: "app1" }],
  ["no code for a pending address", errors.noPendingCode(), 403, "InvalidVerificationCodeException", { userID: "u1", appID: "app1" }],
  [
    "a password throttle",
    errors.passwordChecksThrottled(2_500),
    429,
    "TooManyRequestsException",
    { errorCode: "TOO_MANY_REQUESTS", retryAfterSeconds: 3 },
  ],
  [
    "a missing permission",
    errors.permissionDenied("user.write"),
    401,
    "UnauthorizedAccessException",
    { errorCode: "UNAUTHORIZED", authenticatedAppID: "app1", authenticatedPrincipalID: "p1", permission: "user.write" },
  ],
  ["an organization that is gone", errors.organizationNotFound(), 404, "NotFoundException", { errorCode: "NOT_FOUND" }],
];

describe("kiiErrorOf", () => {
  it.each(cases)("%s", (_name, error, status, exception, fields) => {
    const kiiError = kiiErrorOf(error, context);
    expect(kiiError.status).toBe(status);
    expect(kiiError.exception).toBe(exception);
    expect(kiiError.body()).toMatchObject({ message: error.message, ...fields, reason: error.reason });
  });

  it("never puts a submitted code in an answer: Kii's verificationCode field is left out", () => {
    expect(Object.keys(kiiErrorOf(errors.codeInvalid(4), context).body()).sort()).toEqual(
      ["appID", "attemptsLeft", "errorCode", "message", "reason", "userID"].sort(),
    );
  });
});
