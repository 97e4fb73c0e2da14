// The counts behind the limits, against a real SQLite file: the `max`-th most recent action in the window decides,
// its age gives the exact wait, and each kind of key counts only its own actions.
import { describe, expect, it } from "vitest";
import { type CountedAction, LimitReached, rulesFor } from "../../src/domain/limits/counted-action.js";
import type { Limits } from "../../src/domain/limits/limits.js";
import { SqliteLimitCounter } from "../../src/store/sqlite-limit-counter.js";
import { openTemp } from "./support/temp-database.js";

const limits: Limits = {
  sendCooldownMs: 60_000,
  sendsPerDestinationShort: 2,
  sendsPerDestinationDay: 3,
  sendsPerOrganizationHour: 100,
  sendsPerCallerHour: 100,
  verificationsPerUserHour: 2,
};
const send = (userId: string, destination: string): CountedAction => ({
  action: "send",
  userId,
  channel: "phone",
  destination,
  organizationId: "org",
  callerId: "caller",
});
const t0 = Date.UTC(2026, 10, 25, 12, 0, 0);

function counter() {
  const counter = new SqliteLimitCounter(openTemp().db);
  /** Checks and records, as the user store does in its transaction; the refusal, if any. */
  const act = (counted: CountedAction, at: number): LimitReached | undefined => {
    const action = { counted, rules: rulesFor(counted, limits), at: new Date(at) };
    try {
      counter.check(action);
    } catch (error) {
      if (error instanceof LimitReached) return error;
      throw error;
    }
    counter.record(action);
    return undefined;
  };
  return { counter, act };
}

describe("SqliteLimitCounter", () => {
  it("refuses the action past a limit with the exact wait, and admits it once the oldest counted one left the window", () => {
    const { act } = counter();
    expect(act(send("a", "+41790000001"), t0)).toBeUndefined();
    expect(act(send("b", "+41790000001"), t0 + 1000)).toBeUndefined();
    const refused = act(send("c", "+41790000001"), t0 + 2000);
    expect(refused?.rule.name).toBe("sends_per_destination_10m");
    expect(refused?.retryAfterMs).toBe(10 * 60_000 - 2000);
    expect(act(send("c", "+41790000001"), t0 + 10 * 60_000 - 1)?.retryAfterMs).toBe(1);
    expect(act(send("c", "+41790000001"), t0 + 10 * 60_000)).toBeUndefined();
    // The day's third is the last: the day limit answers with the first send's age.
    expect(act(send("d", "+41790000001"), t0 + 20 * 60_000)?.rule.name).toBe("sends_per_destination_day");
  });

  it("keeps the cooldown per user and channel, and counts sends and verifications apart", () => {
    const { act } = counter();
    expect(act(send("a", "+41790000001"), t0)).toBeUndefined();
    expect(act(send("a", "+41790000002"), t0 + 1000)?.rule.name).toBe("send_cooldown");
    expect(act({ ...send("a", "a@example.com"), channel: "email" }, t0 + 1000)).toBeUndefined();
    const verify: CountedAction = { action: "verify", userId: "a", channel: "phone", organizationId: "org", callerId: "caller" };
    expect(act(verify, t0 + 2000)).toBeUndefined();
    expect(act(verify, t0 + 3000)).toBeUndefined();
    expect(act(verify, t0 + 4000)).toMatchObject({ rule: { name: "verifications_per_user_hour" }, retryAfterMs: 3_600_000 - 2000 });
  });

  it("purges what is older than the given time, and nothing newer", () => {
    const { act, counter: store } = counter();
    act(send("a", "+41790000001"), t0);
    act(send("b", "+41790000002"), t0 + 5000);
    expect(store.purge(new Date(t0 + 1))).toBe(1);
    expect(act(send("b", "+41790000002"), t0 + 6000)?.rule.name).toBe("send_cooldown");
  });
});
