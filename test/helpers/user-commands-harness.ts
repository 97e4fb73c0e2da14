// UserCommands on a real SQLite file with real crypto, for tests that drive users without the RPC layer. One
// password hasher for all tests: it is the real argon2id, and its start-up hash need not be paid per test.
import { randomBytes, randomInt } from "node:crypto";
import { createCodeHasher } from "../../src/crypto/code-hmac.js";
import { parseKeyList } from "../../src/crypto/keyring.js";
import { createMessageSealer } from "../../src/crypto/message-sealer.js";
import { createPasswordHasher } from "../../src/crypto/password-hasher.js";
import { loadMessageTemplates } from "../../src/delivery/templates/template-directory.js";
import type { Clock, UserStore } from "../../src/domain/ports.js";
import { type Actor, UserCommands } from "../../src/domain/user-commands.js";
import type { Db } from "../../src/store/sqlite/open-database.js";
import { SqliteOrganizationSettingsStore } from "../../src/store/sqlite/sqlite-organization-settings-store.js";
import { SqliteOrganizationStore } from "../../src/store/sqlite/sqlite-organization-store.js";
import { SqliteUserStore } from "../../src/store/sqlite/sqlite-user-store.js";

export const passwordHasher = createPasswordHasher({ atOnce: 2, waiting: 1_000 });

export const phonePolicy = { allowLandline: false };

/** The caller the limits count these tests' sends for. */
export const actor: Actor = { callerId: "test-caller" };

/** Limits these tests never reach: the limits themselves are tested through the API. */
const unreachedLimits = {
  sendCooldownMs: 0,
  sendsPerDestinationShort: 1_000_000,
  sendsPerDestinationDay: 1_000_000,
  sendsPerOrganizationHour: 1_000_000,
  sendsPerCallerHour: 1_000_000,
  verificationsPerUserHour: 1_000_000,
};

export interface HarnessOptions {
  clock?: Clock;
  /** Ids handed out first, in order; random ones after. */
  ids?: string[];
  wrapStore?: (store: UserStore) => UserStore;
}

export function userCommandsOn(db: Db, options: HarnessOptions = {}): UserCommands {
  const keyring = parseKeyList(`1:${randomBytes(32).toString("base64")}`);
  const ids = options.ids ?? [];
  const newId = () => ids.shift() ?? String(randomInt(1e9));
  const users = new SqliteUserStore(db);
  return new UserCommands({
    users: options.wrapStore ? options.wrapStore(users) : users,
    organizations: new SqliteOrganizationStore(db, () => "org-1"),
    settings: new SqliteOrganizationSettingsStore(db),
    clock: options.clock ?? { now: () => new Date() },
    newId,
    randomIndex: randomInt,
    hasher: createCodeHasher(keyring),
    passwords: passwordHasher,
    sealer: createMessageSealer(keyring),
    policy: {
      codes: {
        phone: { length: 6, alphabet: "0123456789", ttlMs: 600_000, maxAttempts: 5 },
        email: { length: 6, alphabet: "0123456789", ttlMs: 600_000, maxAttempts: 5 },
      },
      failures: { maxConsecutiveFailures: 100, lockoutMs: 3_600_000 },
      phone: phonePolicy,
      limits: unreachedLimits,
      testContacts: false,
      sendChannels: ["phone", "email"],
      messages: loadMessageTemplates({ appName: "verifyd", defaultLanguage: "en" }),
    },
  });
}
