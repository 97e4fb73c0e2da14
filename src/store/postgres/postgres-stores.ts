// The PostgreSQL database as the store contract (src/store/stores.ts) sees it.
import { SettingsReadWithUsers } from "../settings-read-with-users.js";
import type { DatabaseConnection, StoreOptions, Stores } from "../stores.js";
import { redactedUrl } from "../database-url.js";
import type { PostgresHandle } from "./open-postgres.js";
import { PostgresAccessTokenStore } from "./postgres-access-token-store.js";
import { PostgresApplicationStore } from "./postgres-application-store.js";
import { PostgresInstanceStore } from "./postgres-instance-store.js";
import { PostgresKeyStore } from "./postgres-key-store.js";
import { PostgresLoginStore } from "./postgres-login-store.js";
import { PostgresMemberStore } from "./postgres-member-store.js";
import { PostgresOrganizationSettingsStore } from "./postgres-organization-settings-store.js";
import { PostgresOrganizationStore } from "./postgres-organization-store.js";
import { PostgresOutboxStore } from "./postgres-outbox-store.js";
import { PostgresSecurityLog } from "./postgres-security-log.js";
import { PostgresUserQuery } from "./postgres-user-query.js";
import { PostgresUserStore } from "./postgres-user-store.js";

export function postgresConnection(handle: PostgresHandle, url: string): DatabaseConnection {
  return {
    dialect: "postgres",
    location: redactedUrl(url),
    stores: (options) => postgresStores(handle, options),
    probeRead: handle.probeRead,
    probeWrite: handle.probeWrite,
    pendingMigrations: handle.pendingMigrations,
    appliedMigrations: handle.appliedMigrations,
    close: handle.close,
  };
}

function postgresStores({ db }: PostgresHandle, { storage, newId, outboxLeaseMs }: StoreOptions): Stores {
  const settingsReadWithUsers = new SettingsReadWithUsers();
  const securityLog = new PostgresSecurityLog(db, storage);
  return {
    users: new PostgresUserStore(db, storage, settingsReadWithUsers, securityLog),
    userQuery: new PostgresUserQuery(db, storage),
    organizations: new PostgresOrganizationStore(db, newId, storage),
    organizationSettings: new PostgresOrganizationSettingsStore(db, storage, settingsReadWithUsers),
    members: new PostgresMemberStore(db, storage),
    tokens: new PostgresAccessTokenStore(db, storage),
    applications: new PostgresApplicationStore(db, storage),
    logins: new PostgresLoginStore(db, storage),
    securityLog,
    outbox: new PostgresOutboxStore(db, { ...(storage ? { storage } : {}), ...(outboxLeaseMs ? { leaseMs: outboxLeaseMs } : {}) }),
    instance: new PostgresInstanceStore(db),
    keys: new PostgresKeyStore(db, storage),
  };
}
