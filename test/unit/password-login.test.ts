// The pure parts of the password login: login names, the throttling schedule, and who may log in at all.
import { describe, expect, it } from "vitest";
import { parseLoginName } from "../../src/domain/credentials/login-name.js";
import { loginRetryAfterMs } from "../../src/domain/credentials/login-throttle.js";
import { loginAccount } from "../../src/domain/credentials/password-login.js";
import type { HumanUserState, UserState } from "../../src/domain/user-state.js";

describe("login names", () => {
  const policy = { allowLandline: false };

  it("brings every spelling of a phone number to E.164, landlines included, counts failures under it, and never takes it as a username", () => {
    expect(parseLoginName("+41 79 123 45 67", policy)).toEqual({ key: "+41791234567", phone: "+41791234567" });
    expect(parseLoginName("+41 44 234 56 78", policy).phone).toBe("+41442345678");
    expect(parseLoginName("079 123 45 67", { ...policy, defaultRegion: "CH" }).phone).toBe("+41791234567");
  });

  it("takes an email address by its mailbox, in any case, and never as a username", () => {
    expect(parseLoginName("Ada@EXAMPLE.com", policy)).toEqual({ key: "ada@example.com", email: "ada@example.com" });
  });

  it("takes anything else as a username, as typed", () => {
    expect(parseLoginName("ada", policy)).toEqual({ key: "ada", username: "ada" });
    expect(parseLoginName("912163630758578289", policy)).toEqual({ key: "912163630758578289", username: "912163630758578289" });
  });
});

describe("login throttling", () => {
  const last = new Date(Date.UTC(2026, 0, 1, 12, 0, 0));
  const after = (ms: number) => new Date(last.getTime() + ms);

  it("lets the first five failures in a row pass at once", () => {
    expect(loginRetryAfterMs(undefined, last)).toBe(0);
    expect(loginRetryAfterMs({ failures: 4, lastFailureAt: last }, last)).toBe(0);
  });

  it("then waits 1 s after the last failure, doubling with each further failure", () => {
    expect(loginRetryAfterMs({ failures: 5, lastFailureAt: last }, last)).toBe(1_000);
    expect(loginRetryAfterMs({ failures: 5, lastFailureAt: last }, after(999))).toBe(1);
    expect(loginRetryAfterMs({ failures: 5, lastFailureAt: last }, after(1_000))).toBe(0);
    expect(loginRetryAfterMs({ failures: 6, lastFailureAt: last }, after(500))).toBe(1_500);
    expect(loginRetryAfterMs({ failures: 14, lastFailureAt: last }, last)).toBe(512_000);
  });

  it("never longer than 15 minutes, however many failures", () => {
    expect(loginRetryAfterMs({ failures: 15, lastFailureAt: last }, last)).toBe(900_000);
    expect(loginRetryAfterMs({ failures: 10_000, lastFailureAt: last }, after(899_000))).toBe(1_000);
  });
});

describe("who a login name logs in", () => {
  const person = (id: string, changes: Partial<HumanUserState> = {}): UserState => ({
    id,
    resourceOwner: "org-1",
    kind: "human",
    status: "active",
    username: id,
    profile: { givenName: "Ada", familyName: "Lovelace" },
    phone: { failureStreak: 0 },
    email: { failureStreak: 0 },
    passwordHash: "$argon2id$hash",
    sequence: 1,
    createdAt: new Date(0),
    changedAt: new Date(0),
    ...changes,
  });

  it("the one active person with a password that the name matches", () => {
    expect(loginAccount([person("u1")])).toEqual({ userId: "u1", organizationId: "org-1", passwordHash: "$argon2id$hash" });
  });

  it("nobody when the name matches no one, or more than one user, and why (for the security log)", () => {
    expect(loginAccount([])).toEqual({ refusal: "LOGIN_NAME_UNKNOWN" });
    expect(loginAccount([person("u1"), person("u2")])).toEqual({ refusal: "LOGIN_NAME_AMBIGUOUS" });
  });

  it("nobody without a password, deactivated, locked, or a service account, and why and who", () => {
    const { passwordHash: _none, ...withoutPassword } = person("u1") as HumanUserState;
    expect(loginAccount([withoutPassword])).toEqual({ refusal: "NO_PASSWORD", userId: "u1", organizationId: "org-1" });
    expect(loginAccount([person("u1", { status: "inactive" })])).toEqual({ refusal: "USER_DISABLED", userId: "u1", organizationId: "org-1" });
    expect(loginAccount([person("u1", { status: "locked" })])).toEqual({ refusal: "USER_DISABLED", userId: "u1", organizationId: "org-1" });
    const machine: UserState = {
      id: "m1",
      resourceOwner: "org-1",
      kind: "machine",
      status: "active",
      username: "m1",
      name: "Bot",
      description: "",
      sequence: 1,
      createdAt: new Date(0),
      changedAt: new Date(0),
    };
    expect(loginAccount([machine])).toEqual({ refusal: "USER_NOT_HUMAN", userId: "m1", organizationId: "org-1" });
  });
});
