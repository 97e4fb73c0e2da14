// Organizations' verification settings in SQLite: one JSON document per organization that set any. A test contact's
// fixed code is stored sealed (base64 in the JSON), as messages waiting for delivery are.
import type { Statement } from "better-sqlite3";
import {
  type OrganizationSettingsStore,
  type TestContact,
  type VerificationSettings,
  defaultVerificationSettings,
} from "../../domain/organizations/verification-settings.js";
import type { Db } from "./open-database.js";
import { quoted } from "../raw-statement.js";
import { organizationSettings } from "./schema.js";
import type { UserState } from "../../domain/user-state.js";
import { SettingsReadWithUsers } from "../settings-read-with-users.js";
import { type StorageGuard, unmonitoredStorage } from "../storage-health.js";
import { decodeVerificationSettings, encodeVerificationSettings } from "../verification-settings-codec.js";

export class SqliteOrganizationSettingsStore implements OrganizationSettingsStore {
  private readonly selectOne;
  private readonly selectAll;

  constructor(
    private readonly db: Db,
    private readonly storage: StorageGuard = unmonitoredStorage,
    /** Filled by the user store's loads. */
    private readonly readWithUsers = new SettingsReadWithUsers(),
  ) {
    // Read by every command: a statement prepared once, without drizzle's per-call mapping (see sqlite-user-store.ts).
    this.selectOne = db.$client
      .prepare(
        `SELECT ${quoted(organizationSettings.verification)} FROM ${quoted(organizationSettings)} ` +
          `WHERE ${quoted(organizationSettings.organizationId)} = ?`,
      )
      .pluck() as Statement<[string], string>;
    this.selectAll = db
      .select({ organizationId: organizationSettings.organizationId, verification: organizationSettings.verification })
      .from(organizationSettings)
      .orderBy(organizationSettings.organizationId)
      .prepare();
  }

  async verificationSettings(organizationId: string): Promise<VerificationSettings> {
    const text = this.storage.use(() => this.selectOne.get(organizationId));
    return text === undefined ? defaultVerificationSettings : decodeVerificationSettings(JSON.parse(text));
  }

  async settingsReadWith(user: UserState): Promise<VerificationSettings> {
    return this.readWithUsers.of(user) ?? this.verificationSettings(user.resourceOwner);
  }

  async setVerificationSettings(organizationId: string, settings: VerificationSettings, at: Date): Promise<void> {
    const verification = encodeVerificationSettings(settings);
    this.storage.write(() =>
      this.db
        .insert(organizationSettings)
        .values({ organizationId, verification, changedAt: at })
        .onConflictDoUpdate({ target: organizationSettings.organizationId, set: { verification, changedAt: at } })
        .run(),
    );
  }

  async organizationsWithTestContacts(): Promise<{ organizationId: string; testContacts: readonly TestContact[] }[]> {
    const rows = this.storage.use(() => this.selectAll.all());
    return rows
      .map((row) => ({ organizationId: row.organizationId, testContacts: decodeVerificationSettings(row.verification).testContacts }))
      .filter((organization) => organization.testContacts.length > 0);
  }
}
