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
import { type StorageGuard, unmonitoredStorage } from "../storage-health.js";
import { decodeVerificationSettings, encodeVerificationSettings } from "../verification-settings-codec.js";

/** How many organizations' settings, as user loads saw them, a process keeps; beyond it, the first kept are forgotten. */
const keptOrganizations = 10_000;

interface SeenAtLoad {
  /** The stored JSON, null for the defaults: a load that reads the same text changes nothing. */
  text: string | null;
  settings: VerificationSettings;
}

export class SqliteOrganizationSettingsStore implements OrganizationSettingsStore {
  private readonly selectOne;
  private readonly selectAll;
  private readonly seenAtLoad = new Map<string, SeenAtLoad>();

  constructor(
    private readonly db: Db,
    private readonly storage: StorageGuard = unmonitoredStorage,
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

  /**
   * What the latest load of one of the organization's users read along with the user (SqliteUserStore): at least as
   * current as the caller's own load of a user of it. Without a read transaction of its own, which cost a few percent
   * of a VerifyPhone call's CPU (step 15 in the README's performance section).
   */
  async loadedUsersSettings(organizationId: string): Promise<VerificationSettings> {
    return this.seenAtLoad.get(organizationId)?.settings ?? this.verificationSettings(organizationId);
  }

  /** Called by the user store's loads, in the read that loaded the user. */
  seenWithUser(organizationId: string, text: string | null): void {
    if (this.seenAtLoad.get(organizationId)?.text === text) return;
    this.seenAtLoad.delete(organizationId);
    if (this.seenAtLoad.size >= keptOrganizations) {
      const first = this.seenAtLoad.keys().next();
      if (!first.done) this.seenAtLoad.delete(first.value);
    }
    this.seenAtLoad.set(organizationId, { text, settings: text === null ? defaultVerificationSettings : decodeVerificationSettings(JSON.parse(text)) });
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
    // A user loaded before this change must not be decided on the settings read with it.
    this.seenAtLoad.delete(organizationId);
  }

  async organizationsWithTestContacts(): Promise<{ organizationId: string; testContacts: readonly TestContact[] }[]> {
    const rows = this.storage.use(() => this.selectAll.all());
    return rows
      .map((row) => ({ organizationId: row.organizationId, testContacts: decodeVerificationSettings(row.verification).testContacts }))
      .filter((organization) => organization.testContacts.length > 0);
  }
}
