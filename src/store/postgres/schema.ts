// The PostgreSQL schema: the SQLite schema's tables, columns and indexes under the same names, in PostgreSQL's own
// types (timestamptz, jsonb, bytea, identity columns). Each dialect's migrations are generated from its own schema.
import { sql } from "drizzle-orm";
import {
  bigint,
  boolean,
  customType,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp as pgTimestamp,
  uniqueIndex,
} from "drizzle-orm/pg-core";
import type { UserState } from "../../domain/user-state.js";
import { reviveUserState, serializeUserState } from "../user-state-codec.js";

const timestamp = (name: string) => pgTimestamp(name, { withTimezone: true, mode: "date" });

const bytea = customType<{ data: Buffer; driverData: Buffer }>({ dataType: () => "bytea" });

/** jsonb arrives parsed; its dates are revived by name. */
const userStateColumn = customType<{ data: UserState; driverData: string }>({
  dataType: () => "jsonb",
  toDriver: serializeUserState,
  fromDriver: (value) => reviveUserState(value),
});

export const organizations = pgTable("organizations", {
  id: text("id").primaryKey(),
  name: text("name").notNull().unique(),
  createdAt: timestamp("created_at").notNull(),
  // true on the default organization and NULL on all others: UNIQUE admits exactly one default.
  isDefault: boolean("is_default").unique(),
});

export const events = pgTable(
  "events",
  {
    aggregateId: text("aggregate_id").notNull(),
    sequence: integer("sequence").notNull(),
    type: text("type").notNull(),
    payload: jsonb("payload").notNull(),
    resourceOwner: text("resource_owner").notNull(),
    createdAt: timestamp("created_at").notNull(),
  },
  // The final guard against two writers, in any process, appending the same sequence.
  (table) => [primaryKey({ name: "events_pkey", columns: [table.aggregateId, table.sequence] })],
);

export const users = pgTable(
  "users",
  {
    id: text("id").primaryKey(),
    resourceOwner: text("resource_owner").notNull(),
    username: text("username").notNull(),
    sequence: integer("sequence").notNull(),
    createdAt: timestamp("created_at").notNull(),
    changedAt: timestamp("changed_at").notNull(),
    state: userStateColumn("state").notNull(),
    kind: text("kind", { enum: ["human", "machine"] })
      .notNull()
      .default("human"),
    status: text("status", { enum: ["active", "inactive", "locked"] })
      .notNull()
      .default("active"),
    verifiedPhone: text("verified_phone"),
    verifiedEmail: text("verified_email"),
  },
  (table) => [
    // A username is one name in any case of its ASCII letters, as in ZITADEL (usernameKey in login-name.ts).
    uniqueIndex("users_username_unique").on(table.resourceOwner, sql`lower(${table.username} COLLATE "C")`),
    index("users_by_username").on(sql`lower(${table.username} COLLATE "C")`),
    uniqueIndex("users_verified_phone_unique").on(table.verifiedPhone, table.resourceOwner),
    uniqueIndex("users_verified_email_unique").on(table.verifiedEmail, table.resourceOwner),
    // ListUsers' default order, newest first (sqlite/schema.ts says why); ties by id are few, sorted incrementally.
    index("users_by_organization_and_creation").on(table.resourceOwner, table.createdAt),
    index("users_by_creation").on(table.createdAt),
  ],
);

export const accessTokens = pgTable(
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

export const members = pgTable(
  "members",
  {
    userId: text("user_id")
      .notNull()
      .references(() => users.id),
    organizationId: text("organization_id").notNull(),
    roles: jsonb("roles").$type<string[]>().notNull(),
    createdAt: timestamp("created_at").notNull(),
    changedAt: timestamp("changed_at").notNull(),
  },
  (table) => [
    primaryKey({ name: "members_pkey", columns: [table.userId, table.organizationId] }),
    index("members_by_organization").on(table.organizationId),
  ],
);

export const loginFailures = pgTable(
  "login_failures",
  {
    loginName: text("login_name").primaryKey(),
    failures: integer("failures").notNull(),
    lastFailureAt: timestamp("last_failure_at").notNull(),
  },
  (table) => [index("login_failures_by_time").on(table.lastFailureAt)],
);

/** The one row that says this instance was bootstrapped: its primary key lets only one start, in any process, do it. */
export const instance = pgTable("instance", {
  id: integer("id").primaryKey(),
  adminUserId: text("admin_user_id").notNull(),
  bootstrappedAt: timestamp("bootstrapped_at").notNull(),
});

export const outbox = pgTable(
  "outbox",
  {
    id: text("id").primaryKey(),
    userId: text("user_id")
      .notNull()
      .references(() => users.id),
    channel: text("channel", { enum: ["phone", "email"] }).notNull(),
    purpose: text("purpose", { enum: ["code", "contact-changed"] }).notNull().default("code"),
    keyId: text("key_id").notNull(),
    sealed: bytea("sealed"),
    status: text("status", { enum: ["pending", "delivered", "dead", "expired"] })
      .notNull()
      .default("pending"),
    createdAt: timestamp("created_at").notNull(),
    expiresAt: timestamp("expires_at").notNull(),
    claimedUntil: timestamp("claimed_until"),
    attempts: integer("attempts").notNull().default(0),
    lastError: text("last_error"),
    lastFailureAt: timestamp("last_failure_at"),
    deliveredAt: timestamp("delivered_at"),
  },
  (table) => [
    index("outbox_due").on(table.status, table.expiresAt),
    index("outbox_by_contact").on(table.userId, table.channel, table.status),
  ],
);

export const keys = pgTable("keys", {
  id: text("id").primaryKey(),
  fingerprint: text("fingerprint").notNull(),
  recordedAt: timestamp("recorded_at").notNull(),
});

export const storageProbe = pgTable("storage_probe", {
  id: integer("id").primaryKey(),
  writtenAt: timestamp("written_at").notNull(),
  room: bytea("room").notNull(),
});

/**
 * What the limits count: one row per counted action and series, a series being the actions of one kind sharing a key
 * (the sends of one caller, the verifications of one user; limit-keys.ts names them). Ordinals count up from 1 within
 * a series in the order the actions were committed, so a limit's check finds the `max`-th most recent action of its
 * series by number, in the primary key, however many the series holds. Rows older than the longest window are deleted.
 */
export const limitEntries = pgTable(
  "limit_entries",
  {
    series: text("series").notNull(),
    ordinal: bigint("ordinal", { mode: "number" }).notNull(),
    at: timestamp("at").notNull(),
  },
  (table) => [primaryKey({ name: "limit_entries_pkey", columns: [table.series, table.ordinal] }), index("limit_entries_by_time").on(table.at)],
);

export const organizationSettings = pgTable("organization_settings", {
  organizationId: text("organization_id")
    .primaryKey()
    .references(() => organizations.id),
  verification: jsonb("verification").notNull(),
  changedAt: timestamp("changed_at").notNull(),
});

export const securityEvents = pgTable(
  "security_events",
  {
    id: bigint("id", { mode: "number" }).primaryKey().generatedAlwaysAsIdentity(),
    at: timestamp("at").notNull(),
    lastAt: timestamp("last_at").notNull(),
    count: integer("count").notNull().default(1),
    kind: text("kind").notNull(),
    actorId: text("actor_id"),
    clientAddress: text("client_address"),
    userId: text("user_id"),
    organizationId: text("organization_id"),
    detail: jsonb("detail").$type<Record<string, string>>().notNull(),
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

export const applications = pgTable(
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
