// Reads a user's event stream and projection straight from the server's SQLite file through a second handle (WAL
// lets it read while the server writes), so tests can check what each call appended.
import type { UserEvent } from "../../src/domain/events.js";
import type { UserState } from "../../src/domain/user-state.js";
import { openDatabase } from "../../src/store/sqlite/open-database.js";
import { SqliteUserStore } from "../../src/store/sqlite/sqlite-user-store.js";
import { expect } from "vitest";

export interface EventReader {
  store: SqliteUserStore;
  events(userId: string): Promise<UserEvent[]>;
  load(userId: string): Promise<UserState | undefined>;
  /** Event types with the "user.human." prefix dropped, e.g. "phone.code.added". */
  types(userId: string): Promise<string[]>;
  /**
   * The short types the calls appended since the previous read for this user (all of them on the first). Delivery
   * outcomes (`code.sent`, `code.send.failed`) are left out: the outbox worker appends them whenever it delivers.
   */
  appended(userId: string): Promise<string[]>;
  /** The users that have verified this phone number or address, in any organization (one per organization). */
  verifiedBy(channel: "phone" | "email", value: string): string[];
  close(): void;
}

export const shortType = (type: string): string => type.replace(/^user\.human\./, "");

const deliveryOutcome = /^(?:phone|email)\.code\.(?:sent|send\.failed)$/;

export function openEventReader(databasePath: string): EventReader {
  const handle = openDatabase(databasePath);
  const store = new SqliteUserStore(handle.db);
  const seen = new Map<string, number>();
  const types = async (userId: string) => (await store.events(userId)).map((event) => shortType(event.type));
  return {
    store,
    events: (userId) => store.events(userId),
    load: (userId) => store.load(userId),
    types,
    async appended(userId) {
      const all = (await types(userId)).filter((type) => !deliveryOutcome.test(type));
      const from = seen.get(userId) ?? 0;
      seen.set(userId, all.length);
      return all.slice(from);
    },
    verifiedBy(channel, value) {
      const column = channel === "phone" ? "verified_phone" : "verified_email";
      const rows = handle.db.$client.prepare(`SELECT id FROM users WHERE ${column} = ?`).all(value) as { id: string }[];
      return rows.map((row) => row.id);
    },
    close: () => handle.close(),
  };
}

/** Every call that changed the user advanced its sequence: `count` changes, each sequence above the one before. */
export function expectAdvancingSequences(sequences: readonly bigint[], count: number): void {
  expect(sequences).toHaveLength(count);
  for (let i = 1; i < sequences.length; i++) {
    expect(sequences[i], `sequence after step ${i + 1}`).toBeGreaterThan(sequences[i - 1] as bigint);
  }
}
