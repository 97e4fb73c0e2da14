// Organizations' verification settings in PostgreSQL: one jsonb document per organization that set any, in the shape
// the SQLite store keeps, so a test contact's fixed code is stored sealed (base64), as messages waiting for delivery are.
import { asc } from "drizzle-orm";
import {
  type OrganizationSettingsStore,
  type TestContact,
  type VerificationSettings,
  defaultVerificationSettings,
} from "../../domain/organizations/verification-settings.js";
import { quoted } from "../raw-statement.js";
import type { UserState } from "../../domain/user-state.js";
import { SettingsReadWithUsers } from "../settings-read-with-users.js";
import { type StorageGuard, unmonitoredStorage } from "../storage-health.js";
import { decodeVerificationSettings, encodeVerificationSettings } from "../verification-settings-codec.js";
import { namedStatement, rowsOf } from "./named-statement.js";
import type { PgDb } from "./open-postgres.js";
import { organizationSettings } from "./schema.js";

// Every verification reads its organization's settings: a statement sent by name (named-statement.ts).
const selectVerification = namedStatement(
  "organization_settings_verification",
  `SELECT ${quoted(organizationSettings.verification)} FROM ${quoted(organizationSettings)} ` +
    `WHERE ${quoted(organizationSettings.organizationId)} = $1`,
);

export class PostgresOrganizationSettingsStore implements OrganizationSettingsStore {
  constructor(
    private readonly db: PgDb,
    private readonly storage: StorageGuard = unmonitoredStorage,
    /** Filled by the user store's loads. */
    private readonly readWithUsers = new SettingsReadWithUsers(),
  ) {}

  async verificationSettings(organizationId: string): Promise<VerificationSettings> {
    const [row] = await this.storage.use(() => rowsOf<[unknown]>(this.db.$client, selectVerification, [organizationId]));
    return row === undefined ? defaultVerificationSettings : decodeVerificationSettings(row[0]);
  }

  async settingsReadWith(user: UserState): Promise<VerificationSettings> {
    return this.readWithUsers.of(user) ?? this.verificationSettings(user.resourceOwner);
  }

  async setVerificationSettings(organizationId: string, settings: VerificationSettings, at: Date): Promise<void> {
    const verification = encodeVerificationSettings(settings);
    await this.storage.write(() =>
      this.db
        .insert(organizationSettings)
        .values({ organizationId, verification, changedAt: at })
        .onConflictDoUpdate({ target: organizationSettings.organizationId, set: { verification, changedAt: at } }),
    );
  }

  async organizationsWithTestContacts(): Promise<{ organizationId: string; testContacts: readonly TestContact[] }[]> {
    const rows = await this.storage.use(() =>
      this.db
        .select({ organizationId: organizationSettings.organizationId, verification: organizationSettings.verification })
        .from(organizationSettings)
        .orderBy(asc(organizationSettings.organizationId)),
    );
    return rows
      .map((row) => ({ organizationId: row.organizationId, testContacts: decodeVerificationSettings(row.verification).testContacts }))
      .filter((organization) => organization.testContacts.length > 0);
  }
}
