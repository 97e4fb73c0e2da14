// What every protocol answers when a limit is reached.
import { expect } from "vitest";
import { type CallResult, expectFailure } from "./protocol-clients.js";

/** The refusal of a send limit, on any protocol, with its wait. */
export function expectLimitReached(result: CallResult, limit: string, waitMs: number, reason = "SEND_LIMIT_REACHED"): void {
  const failure = expectFailure(result);
  expect(failure).toMatchObject({ code: 8, errorInfo: { reason, domain: "verifyd", metadata: { limit } } });
  expect(failure.retryDelayMs, "RetryInfo.retry_delay").toBe(waitMs);
  expect(failure.retryAfter, "Retry-After").toBe(String(Math.ceil(waitMs / 1000)));
  if (failure.httpStatus !== undefined) expect(failure.httpStatus).toBe(429);
}
