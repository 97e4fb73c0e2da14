// UserCommands against the real SQLite store, for what cannot be provoked through the API.
import { randomBytes, randomInt } from "node:crypto";
import { describe, expect, it } from "vitest";
import { createCodeHasher } from "../../src/crypto/code-hmac.js";
import { parseKeyList } from "../../src/crypto/keyring.js";
import { createMessageSealer } from "../../src/crypto/message-sealer.js";
import type { UserStore } from "../../src/domain/ports.js";
import { UserCommands } from "../../src/domain/user-commands.js";
import { SqliteOrganizationStore } from "../../src/store/sqlite-organization-store.js";
import { SqliteUserStore } from "../../src/store/sqlite-user-store.js";
import { openTemp } from "../store/support/temp-database.js";

function commandsWithIds(ids: string[], wrapStore: (store: UserStore) => UserStore = (store) => store) {
  const { db } = openTemp();
  const keyring = parseKeyList(`1:${randomBytes(32).toString("base64")}`);
  const nextId = () => ids.shift() ?? String(randomInt(1e9));
  return new UserCommands({
    users: wrapStore(new SqliteUserStore(db)),
    organizations: new SqliteOrganizationStore(db, () => "org-1"),
    clock: { now: () => new Date() },
    newId: nextId,
    randomIndex: randomInt,
    hasher: createCodeHasher(keyring),
    sealer: createMessageSealer(keyring),
    policy: {
      codes: {
        phone: { length: 6, alphabet: "0123456789", ttlMs: 600_000, maxAttempts: 5 },
        email: { length: 6, alphabet: "0123456789", ttlMs: 600_000, maxAttempts: 5 },
      },
      failures: { maxConsecutiveFailures: 100, lockoutMs: 3_600_000 },
      phone: { allowLandline: false },
    },
  });
}

const newUser = { profile: { givenName: "Ada", familyName: "Lovelace" }, phone: { value: "+41791234567", verification: { kind: "return" as const } } };

describe("user ids", () => {
  it("takes the next generated id when another process generated the same one first", async () => {
    const commands = commandsWithIds(["100", "100", "101"]);
    const first = await commands.addHumanUser(newUser);
    const second = await commands.addHumanUser(newUser);
    expect([first.userId, second.userId]).toEqual(["100", "101"]);
  });

  it("still refuses a caller's own id that exists", async () => {
    const commands = commandsWithIds([]);
    await commands.addHumanUser({ ...newUser, userId: "mine" });
    await expect(commands.addHumanUser({ ...newUser, userId: "mine" })).rejects.toThrow(/COMMAND-7yiox1isql/);
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
      events: (userId) => store.events(userId),
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
    await commands.addHumanUser({ ...newUser, userId: "slow" });
    const release = store.hold("slow");
    store.loads.length = 0;
    const first = commands.issueNewCode("slow", "phone", returnCode);
    const second = commands.issueNewCode("slow", "phone", returnCode);
    await settle();
    expect(store.loads, "the second call has not loaded yet").toEqual(["slow"]);
    release();
    expect([(await first).details.sequence, (await second).details.sequence]).toEqual([3, 4]);
  });

  it("calls on different users still run side by side: a slow user does not hold up another", async () => {
    const store = holdingStore();
    const commands = commandsWithIds([], store.wrap);
    await commands.addHumanUser({ ...newUser, userId: "slow" });
    await commands.addHumanUser({ ...newUser, userId: "fast" });
    const release = store.hold("slow");
    const slow = commands.issueNewCode("slow", "phone", returnCode);
    await settle();
    expect((await commands.issueNewCode("fast", "phone", returnCode)).details.sequence).toBe(3);
    release();
    expect((await slow).details.sequence).toBe(3);
  });
});
