// UserCommands against the real SQLite store, for what cannot be provoked through the API.
import { describe, expect, it } from "vitest";
import type { UserStore } from "../../src/domain/ports.js";
import { actor, userCommandsOn } from "../helpers/user-commands-harness.js";
import { openTemp } from "../store/support/temp-database.js";

function commandsWithIds(ids: string[], wrapStore?: (store: UserStore) => UserStore) {
  return userCommandsOn(openTemp().db, { ids, ...(wrapStore ? { wrapStore } : {}) });
}

const newUser = { profile: { givenName: "Ada", familyName: "Lovelace" }, phone: { value: "+41791234567", verification: { kind: "return" as const } } };

describe("user ids", () => {
  it("takes the next generated id when another process generated the same one first", async () => {
    const commands = commandsWithIds(["100", "100", "101"]);
    const first = await commands.addHumanUser(newUser, actor);
    const second = await commands.addHumanUser(newUser, actor);
    expect([first.userId, second.userId]).toEqual(["100", "101"]);
  });

  it("still refuses a caller's own id that exists", async () => {
    const commands = commandsWithIds([]);
    await commands.addHumanUser({ ...newUser, userId: "mine" }, actor);
    await expect(commands.addHumanUser({ ...newUser, userId: "mine" }, actor)).rejects.toThrow(/COMMAND-7yiox1isql/);
  });
});

describe("changes within one process", () => {
  /** A store whose loads of a held user wait until the test releases it; it records every load. */
  function holdingStore() {
    const held = new Map<string, Promise<void>>();
    const loads: string[] = [];
    const wrap = (store: UserStore): UserStore => ({
      async load(userId) {
        loads.push(userId);
        await held.get(userId);
        return store.load(userId);
      },
      append: (change) => store.append(change),
      countActions: (actions) => store.countActions(actions),
      events: (userId) => store.events(userId),
      erase: (userId, expectedSequence) => store.erase(userId, expectedSequence),
    });
    function hold(userId: string): () => void {
      let release!: () => void;
      held.set(userId, new Promise<void>((resolve) => (release = resolve)));
      return release;
    }
    return { wrap, hold, loads };
  }

  const returnCode = { kind: "return" as const };
  const settle = () => new Promise((resolve) => setImmediate(resolve));

  it("queue per user: a change waits for the one before it instead of loading the same state and racing it", async () => {
    const store = holdingStore();
    const commands = commandsWithIds([], store.wrap);
    await commands.addHumanUser({ ...newUser, userId: "slow" }, actor);
    const release = store.hold("slow");
    store.loads.length = 0;
    const first = commands.issueNewCode("slow", "phone", returnCode, actor);
    const second = commands.issueNewCode("slow", "phone", returnCode, actor);
    await settle();
    expect(store.loads, "the second call has not loaded yet").toEqual(["slow"]);
    release();
    expect([(await first).details.sequence, (await second).details.sequence]).toEqual([3, 4]);
  });

  it("calls on different users still run side by side: a slow user does not hold up another", async () => {
    const store = holdingStore();
    const commands = commandsWithIds([], store.wrap);
    await commands.addHumanUser({ ...newUser, userId: "slow" }, actor);
    await commands.addHumanUser({ ...newUser, userId: "fast" }, actor);
    const release = store.hold("slow");
    const slow = commands.issueNewCode("slow", "phone", returnCode, actor);
    await settle();
    expect((await commands.issueNewCode("fast", "phone", returnCode, actor)).details.sequence).toBe(3);
    release();
    expect((await slow).details.sequence).toBe(3);
  });
});

const sendCode = { kind: "send" as const };
const plain = (password: string) => ({ kind: "plain" as const, password });
const machine = { username: "deploy-bot", name: "Deploy bot", description: "Ships releases" };

describe("service accounts", () => {
  it("are created with their name and description, active, and without contacts or password", async () => {
    const commands = commandsWithIds(["m1"]);
    const { userId, details } = await commands.createMachineUser(machine);
    expect(details).toMatchObject({ sequence: 1, resourceOwner: "org-1" });
    expect(await commands.getUser(userId)).toMatchObject({ kind: "machine", status: "active", ...machine });
  });

  it("share the username namespace of the organization with people", async () => {
    const commands = commandsWithIds([]);
    await commands.addHumanUser({ ...newUser, username: "deploy-bot" }, actor);
    await expect(commands.createMachineUser(machine)).rejects.toMatchObject({ reason: "USERNAME_TAKEN" });
  });

  it("refuse an organization that does not exist", async () => {
    const commands = commandsWithIds([]);
    await expect(commands.createMachineUser({ ...machine, organizationId: "nope" })).rejects.toMatchObject({
      reason: "ORGANIZATION_NOT_FOUND",
    });
  });

  it("have no contacts (NotFound, as ZITADEL answers) or password to change", async () => {
    const commands = commandsWithIds(["m1"]);
    await commands.createMachineUser(machine);
    for (const [call, channel] of [
      [commands.setContact("m1", "phone", { value: "+41791234567", verification: sendCode }, actor), "Phone"],
      [commands.issueNewCode("m1", "email", sendCode, actor), "Email"],
      [commands.verify("m1", "phone", "123456", actor), "Phone"],
      [commands.removeContact("m1", "phone"), "Phone"],
    ] as const) {
      await expect(call).rejects.toMatchObject({ kind: "NotFound", id: "COMMAND-ieJ2e", text: `${channel} not found`, reason: "USER_NOT_HUMAN" });
    }
    await expect(commands.setPassword("m1", plain("correct horse"))).rejects.toMatchObject({ kind: "FailedPrecondition", reason: "USER_NOT_HUMAN" });
  });
});

describe("deactivating and locking", () => {
  it("moves only along deactivate/reactivate and lock/unlock, each one event", async () => {
    const commands = commandsWithIds(["u1"]);
    await commands.addHumanUser(newUser, actor);
    expect((await commands.changeStatus("u1", "deactivate")).sequence).toBe(3);
    expect((await commands.getUser("u1")).status).toBe("inactive");
    await expect(commands.changeStatus("u1", "lock")).rejects.toMatchObject({ reason: "USER_STATE_NOT_CHANGED", message: "User is inactive, not active (COMMAND-2M0sd)" });
    await commands.changeStatus("u1", "reactivate");
    await commands.changeStatus("u1", "lock");
    await expect(commands.changeStatus("u1", "deactivate")).rejects.toMatchObject({ reason: "USER_STATE_NOT_CHANGED" });
    await commands.changeStatus("u1", "unlock");
    expect((await commands.getUser("u1")).status).toBe("active");
    await expect(commands.changeStatus("u1", "unlock")).rejects.toMatchObject({ reason: "USER_STATE_NOT_CHANGED" });
  });

  it("applies to service accounts too", async () => {
    const commands = commandsWithIds(["m1"]);
    await commands.createMachineUser(machine);
    await commands.changeStatus("m1", "lock");
    expect((await commands.getUser("m1")).status).toBe("locked");
  });

  it.each(["deactivate", "lock"] as const)("after %s, set, resend and verify answer USER_DISABLED and write nothing", async (disable) => {
    const commands = commandsWithIds(["u1"]);
    const { phoneCode } = await commands.addHumanUser(newUser, actor);
    await commands.changeStatus("u1", disable);
    const { sequence } = await commands.getUser("u1");
    for (const call of [
      commands.setContact("u1", "email", { value: "ada@example.com", verification: sendCode }, actor),
      commands.issueNewCode("u1", "phone", sendCode, actor),
      commands.verify("u1", "phone", phoneCode as string, actor),
    ]) {
      await expect(call).rejects.toMatchObject({ reason: "USER_DISABLED" });
    }
    expect((await commands.getUser("u1")).sequence).toBe(sequence);
  });

  it("still lets an administrator remove a disabled user's phone", async () => {
    const commands = commandsWithIds(["u1"]);
    await commands.addHumanUser(newUser, actor);
    await commands.changeStatus("u1", "lock");
    await commands.removeContact("u1", "phone");
    const state = await commands.getUser("u1");
    expect(state.status).toBe("locked");
    expect(state.kind === "human" && state.phone).toEqual({ failureStreak: 0 });
  });
});

describe("verifying on the state the caller loaded to authorize the call", () => {
  it("decides again on the fresh state when that state is stale: a code is used once, a locked user stays locked", async () => {
    const commands = commandsWithIds(["u1", "u2"]);
    const { phoneCode } = await commands.addHumanUser(newUser, actor);
    const loadedBeforeUse = await commands.getUser("u1");
    await commands.verify("u1", "phone", phoneCode as string, actor, loadedBeforeUse);
    const afterUse = await commands.getUser("u1");

    await expect(commands.verify("u1", "phone", phoneCode as string, actor, loadedBeforeUse)).rejects.toMatchObject({
      reason: "ALREADY_VERIFIED",
    });
    expect((await commands.getUser("u1")).sequence).toBe(afterUse.sequence);

    const other = await commands.addHumanUser({ ...newUser, phone: { value: "+41791234568", verification: { kind: "return" as const } } }, actor);
    const loadedBeforeLock = await commands.getUser("u2");
    await commands.changeStatus("u2", "lock");
    await expect(commands.verify("u2", "phone", other.phoneCode as string, actor, loadedBeforeLock)).rejects.toMatchObject({
      reason: "USER_DISABLED",
    });
  });
});

describe("passwords", () => {
  async function passwordHashOf(commands: ReturnType<typeof commandsWithIds>, userId: string): Promise<string | undefined> {
    const state = await commands.getUser(userId);
    return state.kind === "human" ? state.passwordHash : undefined;
  }

  it("are stored only as an argon2id hash, in the event and the state", async () => {
    const { db, sqlite } = openTemp();
    const commands = userCommandsOn(db, { ids: ["u1"] });
    await commands.addHumanUser({ ...newUser, password: plain("correct horse") }, actor);
    const hash = await passwordHashOf(commands, "u1");
    expect(hash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    const rows = sqlite.prepare("SELECT type, payload FROM events WHERE aggregate_id = 'u1'").all() as { type: string; payload: string }[];
    expect(rows.map((row) => row.type)).toEqual(["user.human.added", "user.human.password.changed", "user.human.phone.code.added"]);
    expect(JSON.parse(rows[1]!.payload)).toEqual({ encodedHash: hash });
    expect(JSON.stringify(sqlite.prepare("SELECT * FROM events").all())).not.toContain("correct horse");
    expect(JSON.stringify(sqlite.prepare("SELECT * FROM users").all())).not.toContain("correct horse");
  });

  it("must have at least 8 characters, counted as a person counts them", async () => {
    const commands = commandsWithIds(["u1"]);
    await expect(commands.addHumanUser({ ...newUser, password: plain("short12") }, actor)).rejects.toMatchObject({ reason: "PASSWORD_TOO_WEAK" });
    await expect(commands.getUser("u1")).rejects.toMatchObject({ reason: "USER_NOT_FOUND" });
    await commands.addHumanUser({ ...newUser, password: plain("🔑🔑🔑🔑🔑🔑🔑🔑") }, actor);
  });

  it("can be imported as an argon2id hash, but no other kind of hash", async () => {
    const commands = commandsWithIds(["u1", "u2"]);
    const encodedHash = "$argon2id$v=19$m=19456,t=2,p=1$J94pRI2vx1ZaRrKgLwr86w$nHGBRujFZAezZ0bhNRqh7DpjG3uVze61OUHVb8fPEW0";
    await commands.addHumanUser({ ...newUser, password: { kind: "hashed", encodedHash } }, actor);
    expect(await passwordHashOf(commands, "u1")).toBe(encodedHash);
    for (const unsupported of ["$2b$10$abcdefghijklmnopqrstuu", encodedHash.replace("argon2id", "argon2i"), "not a hash"]) {
      await expect(commands.setPassword("u1", { kind: "hashed", encodedHash: unsupported })).rejects.toMatchObject({
        reason: "HASHED_PASSWORD_UNSUPPORTED",
      });
    }
  });

  it("change with the current password when one is given or required, without when neither", async () => {
    const commands = commandsWithIds(["u1"]);
    await commands.addHumanUser({ ...newUser, password: plain("first password") }, actor);
    await expect(commands.setPassword("u1", plain("second password"), { currentPassword: "wrong password" })).rejects.toMatchObject({
      reason: "PASSWORD_INVALID",
    });
    await expect(commands.setPassword("u1", plain("second password"), { requireCurrentPassword: true })).rejects.toMatchObject({
      reason: "PASSWORD_INVALID",
    });
    const before = await passwordHashOf(commands, "u1");
    await commands.setPassword("u1", plain("second password"), { currentPassword: "first password", requireCurrentPassword: true });
    const after = await passwordHashOf(commands, "u1");
    expect(after).not.toBe(before);
    await commands.setPassword("u1", plain("third password"));
    expect(await passwordHashOf(commands, "u1")).not.toBe(after);
  });

  it("cannot be proven by a user who has none", async () => {
    const commands = commandsWithIds(["u1"]);
    await commands.addHumanUser(newUser, actor);
    await expect(commands.setPassword("u1", plain("new password"), { currentPassword: "" })).rejects.toMatchObject({
      reason: "PASSWORD_INVALID",
    });
  });

  it("of an unknown user: USER_NOT_FOUND, also when a current password is given", async () => {
    const commands = commandsWithIds([]);
    await expect(commands.setPassword("nobody", plain("new password"), { currentPassword: "old password" })).rejects.toMatchObject({
      reason: "USER_NOT_FOUND",
    });
  });
});
