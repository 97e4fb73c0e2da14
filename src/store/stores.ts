// The one contract both databases fulfil: every store the service uses, and the handle's health probes. SQLite (a file
// path) is the embedded default; PostgreSQL (a postgres:// URL) lets several processes share one database. The store
// contract tests (test/store/) run every behaviour against both.
import type { InstanceStore } from "../bootstrap/bootstrap-instance.js";
import type { KeyRecords } from "../crypto/keyring-guard.js";
import type { MemberStore } from "../domain/access/member.js";
import type { ApplicationStore } from "../domain/applications/application.js";
import type { AccessTokenStore } from "../domain/credentials/access-token.js";
import type { LoginStore } from "../domain/credentials/password-login.js";
import type { OrganizationSettingsStore } from "../domain/organizations/verification-settings.js";
import type { OrganizationStore, OutboxStore, UserStore } from "../domain/ports.js";
import type { SecurityLog } from "../domain/security/security-event.js";
import type { SecurityLogReader } from "../domain/security/security-log-query.js";
import type { UserQueryStore } from "../domain/users/user-query.js";
import type { OutboxBacklog } from "../metrics/outbox-metrics.js";
import type { StorageGuard } from "./storage-health.js";

export type Dialect = "sqlite" | "postgres";

/** Deletes what no longer counts (limits' old actions, idle login failures, old security events); returns how many. */
export interface Purgeable {
  purge(before: Date): Promise<number>;
}

export interface Stores {
  users: UserStore & { purgeLimitEntries(before: Date): Promise<number> };
  userQuery: UserQueryStore;
  organizations: OrganizationStore;
  organizationSettings: OrganizationSettingsStore;
  members: MemberStore;
  tokens: AccessTokenStore;
  applications: ApplicationStore;
  logins: LoginStore & { purgeIdle(before: Date): Promise<number> };
  securityLog: SecurityLog & SecurityLogReader & Purgeable;
  outbox: OutboxStore & OutboxBacklog;
  instance: InstanceStore;
  keys: KeyRecords;
}

export interface StoreOptions {
  storage?: StorageGuard;
  /** Ids for new rows (the default organization). */
  newId: () => string;
  /** How long a claimed outbox message is left to its worker before another may claim it. */
  outboxLeaseMs?: number;
}

/** An open database of either dialect. */
export interface DatabaseConnection {
  dialect: Dialect;
  /** Where it is, without secrets: a file path, or a URL without its password. */
  location: string;
  stores(options: StoreOptions): Stores;
  /** A cheap read, for health checks. */
  probeRead(): void | Promise<void>;
  /** A write the size of a large call, for health checks while writes fail. */
  probeWrite(): void | Promise<void>;
  /** This build's migrations the database lacks (none after a successful open), for readiness. */
  pendingMigrations(): number;
  /** The migrations the database lacked and now has, oldest first. */
  appliedMigrations: string[];
  /** SQLite's: what happened to the database's files, once their path no longer leads to them. */
  lostFiles?(): string | undefined;
  close(): Promise<void>;
}
