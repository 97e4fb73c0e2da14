// The SQLite schema. Timestamps are integer milliseconds since the epoch throughout.
import { blob, customType, index, integer, primaryKey, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import { sql } from "drizzle-orm";
import type { UserState } from "../../domain/user-state.js";
import { deserializeUserState, serializeUserState } from "../user-state-codec.js";

const timestamp = (name: string) => integer(name, { mode: "timestamp_ms" });

const userStateColumn = customType<{ data: UserState; driverData: string }>({
  dataType: () => "text",
  toDriver: serializeUserState,
  fromDriver: deserializeUserState,
});

export const organizations = sqliteTable("organizations", {
  id: text("id").primaryKey(),
  // Unique, as in ZITADEL: people tell organizations apart by name.
  name: text("name").notNull().unique(),
  createdAt: timestamp("created_at").notNull(),
  // true on the default organization and NULL on all others, so UNIQUE admits exactly one default even when two
  // processes create it at once.
  isDefault: integer("is_default", { mode: "boolean" }).unique(),
});

/** The event stream: append-only (DeleteUser erases a stream whole) and the source of truth; `users` is derived from it. */
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
    // Columns copied out of `state` for lookups and list queries; `state` stays the whole truth.
    kind: text("kind", { enum: ["human", "machine"] })
      .notNull()
      .default("human"),
    status: text("status", { enum: ["active", "inactive", "locked"] })
      .notNull()
      .default("active"),
    /** Login names besides the username: only verified contacts count, so only they are here. */
    verifiedPhone: text("verified_phone"),
    verifiedEmail: text("verified_email"),
  },
  (table) => [
    // A username is one name in any case of its ASCII letters, as in ZITADEL (usernameKey in login-name.ts).
    uniqueIndex("users_username_unique").on(table.resourceOwner, sql`lower(${table.username})`),
    index("users_by_username").on(sql`lower(${table.username})`),
    // A verified phone number or address belongs to one user per organization; the index also finds login names.
    uniqueIndex("users_verified_phone_unique").on(table.verifiedPhone, table.resourceOwner),
    uniqueIndex("users_verified_email_unique").on(table.verifiedEmail, table.resourceOwner),
    // ListUsers' default order, newest first, within an organization or over all: a page of 20 reads 20 rows, where
    // sorting an organization of 16,000 users read them all (40 ms, found by a soak trial).
    index("users_by_organization_and_creation").on(table.resourceOwner, table.createdAt, table.id),
    index("users_by_creation").on(table.createdAt, table.id),
  ],
);

/**
 * Bearer tokens: personal access tokens of machine users and the tokens a password login hands out. Only a SHA-256
 * of each is kept (a token has 256 random bits, so no slow hash is needed); removing the row revokes it at once.
 */
export const accessTokens = sqliteTable(
  "access_tokens",
  {
    id: text("id").primaryKey(),
    userId: text("user_id")
      .notNull()
      .references(() => users.id),
    tokenHash: text("token_hash").notNull().unique(),
    kind: text("kind", { enum: ["personal", "login"] }).notNull(),
    createdAt: timestamp("created_at").notNull(),
    expiresAt: timestamp("expires_at").notNull(),
  },
  (table) => [index("access_tokens_by_user").on(table.userId, table.kind)],
);

/** Administrators: a user's roles on the instance (organization_id "") or on one organization. */
export const members = sqliteTable(
  "members",
  {
    userId: text("user_id")
      .notNull()
      .references(() => users.id),
    organizationId: text("organization_id").notNull(),
    roles: text("roles", { mode: "json" }).$type<string[]>().notNull(),
    createdAt: timestamp("created_at").notNull(),
    changedAt: timestamp("changed_at").notNull(),
  },
  (table) => [primaryKey({ columns: [table.userId, table.organizationId] }), index("members_by_organization").on(table.organizationId)],
);

/** Wrong passwords per login name, so guessing is throttled across restarts and processes. */
export const loginFailures = sqliteTable(
  "login_failures",
  {
    loginName: text("login_name").primaryKey(),
    failures: integer("failures").notNull(),
    lastFailureAt: timestamp("last_failure_at").notNull(),
  },
  // Counts idle for a day are deleted, so names tried once by a flood do not stay for ever.
  (table) => [index("login_failures_by_time").on(table.lastFailureAt)],
);

/** The one row that says this instance was bootstrapped, and by whom: its primary key lets only one start do it. */
export const instance = sqliteTable("instance", {
  id: integer("id").primaryKey(),
  adminUserId: text("admin_user_id").notNull(),
  bootstrappedAt: timestamp("bootstrapped_at").notNull(),
});

export const outbox = sqliteTable(
  "outbox",
  {
    id: text("id").primaryKey(),
    userId: text("user_id")
      .notNull()
      .references(() => users.id),
    channel: text("channel", { enum: ["phone", "email"] }).notNull(),
    /** In clear beside the sealed body, so that a new code wipes only waiting codes, never a notice to the old contact. */
    purpose: text("purpose", { enum: ["code", "contact-changed"] }).notNull().default("code"),
    keyId: text("key_id").notNull(),
    /**
     * Wiped to NULL once delivered or expired: a code in any form lives no longer than it must. A dead message keeps
     * it, for an operator's retry, until its code expires.
     */
    sealed: blob("sealed", { mode: "buffer" }),
    /** Dead: delivery gave up (retries ran out, or the provider refused for good). A text column: no migration. */
    status: text("status", { enum: ["pending", "delivered", "dead", "expired"] })
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

/**
 * What the limits count: one row per counted action and series, a series being the actions of one kind sharing a key
 * (the sends of one caller, the verifications of one user; limit-keys.ts names them). Ordinals count up from 1 within
 * a series in the order the actions were committed, so a limit's check finds the `max`-th most recent action of its
 * series by number, in the primary key, however many the series holds. Rows older than the longest window are deleted.
 */
export const limitEntries = sqliteTable(
  "limit_entries",
  {
    series: text("series").notNull(),
    ordinal: integer("ordinal").notNull(),
    at: timestamp("at").notNull(),
  },
  (table) => [primaryKey({ columns: [table.series, table.ordinal] }), index("limit_entries_by_time").on(table.at)],
);

/** An organization's own verification settings (limits, SMS countries, test contacts) over the instance's defaults. */
export const organizationSettings = sqliteTable("organization_settings", {
  organizationId: text("organization_id")
    .primaryKey()
    .references(() => organizations.id),
  /** JSON; a test contact's fixed code is in it encrypted (base64), never in plain text. */
  verification: text("verification", { mode: "json" }).notNull(),
  changedAt: timestamp("changed_at").notNull(),
});

/**
 * The security log. Never a secret in it: ids, names and reasons only. A repeat of the same outcome within a short
 * window raises `count` on its row instead of adding one.
 */
export const securityEvents = sqliteTable(
  "security_events",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    at: timestamp("at").notNull(),
    lastAt: timestamp("last_at").notNull(),
    count: integer("count").notNull().default(1),
    kind: text("kind").notNull(),
    actorId: text("actor_id"),
    clientAddress: text("client_address"),
    userId: text("user_id"),
    organizationId: text("organization_id"),
    detail: text("detail", { mode: "json" }).$type<Record<string, string>>().notNull(),
    /** kind, actor, address, user, organization and detail in one string: what makes two outcomes the same for coalescing. */
    fingerprint: text("fingerprint").notNull(),
  },
  (table) => [
    // Lists a user's entries, and finds a repeat (no user, or the same user, and the same fingerprint): one index at a
    // random place per new entry rather than two, each such place a page written at the commit.
    index("security_events_by_user").on(table.userId, table.fingerprint, table.lastAt),
    index("security_events_by_kind").on(table.kind, table.id),
    index("security_events_by_time").on(table.lastAt),
  ],
);

/** Kii-style applications: an app id and the SHA-256 of its key (the key itself is shown once), for one organization. */
export const applications = sqliteTable(
  "applications",
  {
    id: text("id").primaryKey(),
    organizationId: text("organization_id")
      .notNull()
      .references(() => organizations.id),
    name: text("name").notNull(),
    keyHash: text("key_hash").notNull(),
    createdAt: timestamp("created_at").notNull(),
  },
  (table) => [index("applications_by_organization").on(table.organizationId)],
);
