// UserCommands against the real SQLite store, for what cannot be provoked through the API.
import { randomBytes, randomInt } from "node:crypto";
import { describe, expect, it } from "vitest";
import { createCodeHasher } from "../../src/crypto/code-hmac.js";
import { parseKeyList } from "../../src/crypto/keyring.js";
import { createMessageSealer } from "../../src/crypto/message-sealer.js";
import { UserCommands } from "../../src/domain/user-commands.js";
import { SqliteOrganizationStore } from "../../src/store/sqlite-organization-store.js";
import { SqliteUserStore } from "../../src/store/sqlite-user-store.js";
import { openTemp } from "../store/support/temp-database.js";

function commandsWithIds(ids: string[]) {
  const { db } = openTemp();
  const keyring = parseKeyList(`1:${randomBytes(32).toString("base64")}`);
  const nextId = () => ids.shift() ?? String(randomInt(1e9));
  return new UserCommands({
    users: new SqliteUserStore(db),
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
