// The SQLite schema. Timestamps are integer milliseconds since the epoch throughout.
import { blob, index, integer, primaryKey, sqliteTable, text, unique } from "drizzle-orm/sqlite-core";
import { userStateColumn } from "./user-state-codec.js";

const timestamp = (name: string) => integer(name, { mode: "timestamp_ms" });

export const organizations = sqliteTable("organizations", {
  id: text("id").primaryKey(),
  name: text("name").notNull(),
  createdAt: timestamp("created_at").notNull(),
  // true on the default organization and NULL on all others, so UNIQUE admits exactly one default even when two
  // processes create it at once.
  isDefault: integer("is_default", { mode: "boolean" }).unique(),
});

/** The event stream: append-only and the source of truth; `users` is derived from it. */
export const events = sqliteTable(
  "events",
  {
    aggregateId: text("aggregate_id").notNull(),
    sequence: integer("sequence").notNull(),
    type: text("type").notNull(),
    payload: text("payload", { mode: "json" }).notNull(),
    resourceOwner: text("resource_owner").notNull(),
    createdAt: timestamp("created_at").notNull(),
  },
  // The final guard against two writers appending the same sequence.
  (table) => [primaryKey({ columns: [table.aggregateId, table.sequence] })],
);

/** The projection of each user's events, kept in the same transaction as the append. */
export const users = sqliteTable(
  "users",
  {
    id: text("id").primaryKey(),
    resourceOwner: text("resource_owner").notNull(),
    username: text("username").notNull(),
    sequence: integer("sequence").notNull(),
    createdAt: timestamp("created_at").notNull(),
    changedAt: timestamp("changed_at").notNull(),
    state: userStateColumn("state").notNull(),
  },
  (table) => [unique("users_username_unique").on(table.resourceOwner, table.username)],
);

export const outbox = sqliteTable(
  "outbox",
  {
    id: text("id").primaryKey(),
    userId: text("user_id")
      .notNull()
      .references(() => users.id),
    channel: text("channel", { enum: ["phone", "email"] }).notNull(),
    keyId: text("key_id").notNull(),
    /** Wiped to NULL once delivered or expired: a code in any form lives no longer than it must. */
    sealed: blob("sealed", { mode: "buffer" }),
    status: text("status", { enum: ["pending", "delivered", "expired"] })
      .notNull()
      .default("pending"),
    createdAt: timestamp("created_at").notNull(),
    expiresAt: timestamp("expires_at").notNull(),
    /** A worker's lease: until then no other worker claims the message. */
    claimedUntil: timestamp("claimed_until"),
    attempts: integer("attempts").notNull().default(0),
    lastError: text("last_error"),
    lastFailureAt: timestamp("last_failure_at"),
    deliveredAt: timestamp("delivered_at"),
  },
  (table) => [
    index("outbox_due").on(table.status, table.expiresAt),
    // Every new code, address or verification wipes the contact's waiting messages: found by this index.
    index("outbox_by_contact").on(table.userId, table.channel, table.status),
  ],
);

/**
 * Every master key id this database has been used with, and a fingerprint of its key (an HMAC under a key derived
 * for that purpose alone, which reveals nothing about the key): a keyring with another key under a known id is
 * refused at start instead of turning every stored code into a wrong guess.
 */
export const keys = sqliteTable("keys", {
  id: text("id").primaryKey(),
  fingerprint: text("fingerprint").notNull(),
  recordedAt: timestamp("recorded_at").notNull(),
});

/**
 * One row rewritten by the health check while writes fail, to find out when they work again. It carries as many
 * bytes as a large call writes, since on a nearly full disk a tiny write may still fit where calls do not.
 */
export const storageProbe = sqliteTable("storage_probe", {
  id: integer("id").primaryKey(),
  writtenAt: timestamp("written_at").notNull(),
  room: blob("room", { mode: "buffer" }).notNull(),
});
