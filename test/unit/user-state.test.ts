// The fold of the user aggregate for accounts (kinds, statuses, passwords) and the status state machine.
import { describe, expect, it } from "vitest";
import type { EventBody, UserEvent } from "../../src/domain/events.js";
import { type StatusChange, type UserStatus, statusChangeEvent } from "../../src/domain/users/user-status.js";
import { replay } from "../../src/domain/user-state.js";

const at = (minute: number) => new Date(Date.UTC(2026, 0, 1, 12, minute));

function events(...bodies: EventBody[]): UserEvent[] {
  return bodies.map((body, i) => ({ ...body, aggregateId: "u1", resourceOwner: "org-1", sequence: i + 1, createdAt: at(i) }) as UserEvent);
}

const humanAdded: EventBody = { type: "user.human.added", payload: { username: "ada", profile: { givenName: "Ada", familyName: "Lovelace" } } };
const machineAdded: EventBody = { type: "user.machine.added", payload: { username: "bot", name: "Bot", description: "Builds" } };

describe("the user fold", () => {
  it("makes a service account from user.machine.added: active, no contacts", () => {
    expect(replay(events(machineAdded))).toEqual({
      id: "u1",
      resourceOwner: "org-1",
      kind: "machine",
      status: "active",
      username: "bot",
      name: "Bot",
      description: "Builds",
      sequence: 1,
      createdAt: at(0),
      changedAt: at(0),
    });
  });

  it("makes people active, without a password until one is set, then with its hash", () => {
    const added = replay(events(humanAdded));
    expect(added).toMatchObject({ kind: "human", status: "active" });
    expect(added).not.toHaveProperty("passwordHash");
    const changed = { type: "user.human.password.changed", payload: { encodedHash: "$argon2id$x" } } as const;
    expect(replay(events(humanAdded, changed))).toMatchObject({ passwordHash: "$argon2id$x", sequence: 2, changedAt: at(1) });
  });

  it("follows the status events, for either kind", () => {
    const deactivated = { type: "user.deactivated", payload: {} } as const;
    const reactivated = { type: "user.reactivated", payload: {} } as const;
    const locked = { type: "user.locked", payload: {} } as const;
    expect(replay(events(humanAdded, deactivated))?.status).toBe("inactive");
    expect(replay(events(humanAdded, deactivated, reactivated))?.status).toBe("active");
    expect(replay(events(machineAdded, locked))).toMatchObject({ status: "locked", sequence: 2, changedAt: at(1) });
    expect(replay(events(machineAdded, locked, { type: "user.unlocked", payload: {} }))?.status).toBe("active");
  });

  it("refuses contact or password events on a service account: such a stream is corrupt", () => {
    expect(() => replay(events(machineAdded, { type: "user.human.phone.changed", payload: { value: "+41791234567" } }))).toThrow(
      /service account/,
    );
    expect(() => replay(events(machineAdded, { type: "user.human.password.changed", payload: { encodedHash: "h" } }))).toThrow(
      /service account/,
    );
  });
});

describe("status changes", () => {
  // The event a change appends, or the message of its refusal.
  const cases: [UserStatus, StatusChange, string][] = [
    ["active", "deactivate", "user.deactivated"],
    ["active", "lock", "user.locked"],
    ["inactive", "reactivate", "user.reactivated"],
    ["locked", "unlock", "user.unlocked"],
    ["active", "reactivate", "User is already active"],
    ["active", "unlock", "User is already active"],
    ["inactive", "deactivate", "User is already inactive"],
    ["inactive", "lock", "User is inactive, not active"],
    ["inactive", "unlock", "User is inactive, not locked"],
    ["locked", "lock", "User is already locked"],
    ["locked", "deactivate", "User is locked, not active"],
    ["locked", "reactivate", "User is locked, not inactive"],
  ];

  it.each(cases)("%s, %s → %s", (status, change, outcome) => {
    if (outcome.startsWith("user.")) expect(statusChangeEvent(status, change)).toEqual({ type: outcome, payload: {} });
    else expect(() => statusChangeEvent(status, change)).toThrow(`${outcome} (COMMAND-2M0sd)`);
  });
});
