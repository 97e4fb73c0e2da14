// The wire errors of refusals: equal refusals share one frozen ConnectError (api/connect-errors.ts), so what is shared
// must be exactly what every repeat answers, and must not change.
import { ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { toConnectError } from "../../src/api/connect-errors.js";
import { errors } from "../../src/domain/errors.js";
import { ErrorInfoSchema, RetryInfoSchema } from "../../src/gen/google/rpc/error_details_pb.js";

const attemptsLeftOf = (error: ConnectError) => error.findDetails(ErrorInfoSchema)[0]?.metadata.attemptsLeft;

describe("toConnectError", () => {
  it("answers equal refusals with one frozen error, and different ones each with its own", () => {
    const first = toConnectError(errors.codeInvalid(3));
    const repeat = toConnectError(errors.codeInvalid(3));
    const other = toConnectError(errors.codeInvalid(2));
    expect(repeat).toBe(first);
    expect(other).not.toBe(first);
    expect([attemptsLeftOf(first), attemptsLeftOf(repeat), attemptsLeftOf(other)]).toEqual(["3", "3", "2"]);
    expect(Object.isFrozen(first)).toBe(true);
    expect([...first.metadata]).toEqual([]);
  });

  it("refuses a write to a shared error, its details or their values", () => {
    const shared = toConnectError(errors.codeInvalid(1));
    const info = shared.details[1] as unknown as { value: { metadata: Record<string, string> } };
    expect(() => {
      (shared as { rawMessage: string }).rawMessage = "changed";
    }).toThrow(TypeError);
    expect(() => shared.details.push({ type: "x", value: new Uint8Array() })).toThrow(TypeError);
    expect(() => {
      info.value.metadata.attemptsLeft = "9";
    }).toThrow(TypeError);
    expect(attemptsLeftOf(toConnectError(errors.codeInvalid(1)))).toBe("1");
  });

  it("never shares a refusal with a wait, whose wait differs on every repeat", () => {
    const first = toConnectError(errors.tooManyFailures(61_000));
    const second = toConnectError(errors.tooManyFailures(61_000));
    expect(second).not.toBe(first);
    expect(Object.isFrozen(first)).toBe(false);
    expect(first.metadata.get("retry-after")).toBe("61");
    expect(first.findDetails(RetryInfoSchema)[0]?.retryDelay?.seconds).toBe(61n);
  });

  it("does not keep a refusal that quotes a long input", () => {
    const long = "9".repeat(2_000);
    const first = toConnectError(errors.phoneInvalid(long));
    expect(toConnectError(errors.phoneInvalid(long))).not.toBe(first);
    expect(first.findDetails(ErrorInfoSchema)[0]?.metadata.detail).toBe(long);
  });
});
