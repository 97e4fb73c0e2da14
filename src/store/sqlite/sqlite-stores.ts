// The SQLite file as the store contract (src/store/stores.ts) sees it.
import { SettingsReadWithUsers } from "../settings-read-with-users.js";
import type { DatabaseConnection, StoreOptions, Stores } from "../stores.js";
import type { DatabaseHandle } from "./open-database.js";
import { SqliteAccessTokenStore } from "./sqlite-access-token-store.js";
import { SqliteApplicationStore } from "./sqlite-application-store.js";
import { SqliteInstanceStore } from "./sqlite-instance-store.js";
import { SqliteKeyStore } from "./sqlite-key-store.js";
import { SqliteLoginStore } from "./sqlite-login-store.js";
import { SqliteMemberStore } from "./sqlite-member-store.js";
import { SqliteOrganizationSettingsStore } from "./sqlite-organization-settings-store.js";
import { SqliteOrganizationStore } from "./sqlite-organization-store.js";
import { SqliteOutboxStore } from "./sqlite-outbox-store.js";
import { SqliteSecurityLog } from "./sqlite-security-log.js";
import { SqliteUserQuery } from "./sqlite-user-query.js";
import { SqliteUserStore } from "./sqlite-user-store.js";

export function sqliteConnection(handle: DatabaseHandle, path: string): DatabaseConnection {
  return {
    dialect: "sqlite",
    location: path,
    stores: (options) => sqliteStores(handle, options),
    probeRead: handle.probeRead,
    probeWrite: handle.probeWrite,
    pendingMigrations: handle.pendingMigrations,
    lostFiles: handle.lostFiles,
    appliedMigrations: handle.appliedMigrations,
    close: async () => handle.close(),
  };
}

function sqliteStores({ db }: DatabaseHandle, { storage, newId, outboxLeaseMs }: StoreOptions): Stores {
  const settingsReadWithUsers = new SettingsReadWithUsers();
  const securityLog = new SqliteSecurityLog(db, storage);
  return {
    users: new SqliteUserStore(db, storage, settingsReadWithUsers, securityLog),
    userQuery: new SqliteUserQuery(db, storage),
    organizations: new SqliteOrganizationStore(db, newId, storage),
    organizationSettings: new SqliteOrganizationSettingsStore(db, storage, settingsReadWithUsers),
    members: new SqliteMemberStore(db, storage),
    tokens: new SqliteAccessTokenStore(db, storage),
    applications: new SqliteApplicationStore(db, storage),
    logins: new SqliteLoginStore(db, storage),
    securityLog,
    outbox: new SqliteOutboxStore(db, { ...(storage ? { storage } : {}), ...(outboxLeaseMs ? { leaseMs: outboxLeaseMs } : {}) }),
    instance: new SqliteInstanceStore(db),
    keys: new SqliteKeyStore(db, storage),
  };
}
