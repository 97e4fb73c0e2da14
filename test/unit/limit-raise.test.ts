// Who may loosen an organization's limits: beyond the instance's default, only an IAM_OWNER.
import { describe, expect, it } from "vitest";
import { grantsFrom } from "../../src/domain/access/member.js";
import type { Principal, Role } from "../../src/domain/access/principal.js";
import { errors } from "../../src/domain/errors.js";
import { limitRaiseError, raisedLimits } from "../../src/domain/limits/limit-raise.js";
import type { Limits } from "../../src/domain/limits/limits.js";

const instance: Limits = {
  sendCooldownMs: 60_000,
  sendsPerDestinationShort: 5,
  sendsPerDestinationDay: 20,
  sendsPerOrganizationHour: 1000,
  sendsPerCallerHour: 500,
  verificationsPerUserHour: 30,
};

const principal = (roles: Record<string, Role[]>): Principal => ({
  userId: "caller",
  organizationId: "org",
  ...grantsFrom(Object.entries(roles).map(([organizationId, granted]) => ({ organizationId, roles: granted }))),
});
const orgOwner = principal({ org: ["ORG_OWNER"] });
const iamOwner = principal({ "": ["IAM_OWNER"] });

describe("raisedLimits", () => {
  it("finds nothing raised in no overrides, the defaults themselves, or tighter limits", () => {
    expect(raisedLimits(instance, {}, {})).toEqual([]);
    expect(raisedLimits(instance, {}, instance)).toEqual([]);
    expect(
      raisedLimits(instance, {}, {
        sendCooldownMs: 120_000,
        sendsPerDestinationShort: 1,
        sendsPerDestinationDay: 2,
        sendsPerOrganizationHour: 3,
        sendsPerCallerHour: 4,
        verificationsPerUserHour: 5,
      }),
    ).toEqual([]);
  });

  it("counts a larger count and a shorter cooldown as raised, by the limit's name", () => {
    expect(raisedLimits(instance, {}, { sendsPerCallerHour: 501 })).toEqual(["sends_per_caller_hour"]);
    expect(raisedLimits(instance, {}, { sendCooldownMs: 0, sendsPerDestinationShort: 6, verificationsPerUserHour: 31 })).toEqual([
      "send_cooldown",
      "sends_per_destination_10m",
      "verifications_per_user_hour",
    ]);
    expect(raisedLimits(instance, {}, { sendsPerDestinationDay: 21, sendsPerOrganizationHour: 1001 })).toEqual([
      "sends_per_destination_day",
      "sends_per_organization_hour",
    ]);
  });

  it("lets an organization keep or lower what it was granted, but not go beyond it", () => {
    const granted = { sendsPerOrganizationHour: 5000, sendCooldownMs: 10_000 };
    expect(raisedLimits(instance, granted, granted)).toEqual([]);
    expect(raisedLimits(instance, granted, { sendsPerOrganizationHour: 3000, sendCooldownMs: 30_000 })).toEqual([]);
    expect(raisedLimits(instance, granted, { sendsPerOrganizationHour: 5001, sendCooldownMs: 9_000 })).toEqual([
      "send_cooldown",
      "sends_per_organization_hour",
    ]);
  });

  it("measures against the instance's default when the current override is tighter than it", () => {
    const tightened = { sendsPerCallerHour: 100 };
    expect(raisedLimits(instance, tightened, { sendsPerCallerHour: 500 })).toEqual([]);
    expect(raisedLimits(instance, tightened, { sendsPerCallerHour: 501 })).toEqual(["sends_per_caller_hour"]);
  });
});

describe("limitRaiseError", () => {
  it("refuses anyone but an IAM_OWNER a raise, naming the limits", () => {
    expect(limitRaiseError(orgOwner, instance, {}, { sendsPerCallerHour: 600, sendCooldownMs: 1000 })).toEqual(
      errors.limitRaiseDenied(["send_cooldown", "sends_per_caller_hour"]),
    );
    expect(limitRaiseError(orgOwner, instance, {}, { sendsPerCallerHour: 600 })?.metadata).toEqual({ limits: "sends_per_caller_hour" });
    expect(limitRaiseError(iamOwner, instance, {}, { sendsPerCallerHour: 600, sendCooldownMs: 0 })).toBeUndefined();
  });

  it("lets anyone allowed to set the settings tighten them", () => {
    expect(limitRaiseError(orgOwner, instance, {}, { sendsPerCallerHour: 10 })).toBeUndefined();
  });
});
