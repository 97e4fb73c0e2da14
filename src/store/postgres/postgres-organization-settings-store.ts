// Organizations' verification settings in PostgreSQL: one jsonb document per organization that set any, in the shape
// the SQLite store keeps, so a test contact's fixed code is stored sealed (base64), as messages waiting for delivery are.
import { asc, eq } from "drizzle-orm";
import type { Channel } from "../../domain/errors.js";
import type { Limits } from "../../domain/limits/limits.js";
import {
  type OrganizationSettingsStore,
  type PhoneCountries,
  type TestContact,
  type VerificationSettings,
  defaultVerificationSettings,
} from "../../domain/organizations/verification-settings.js";
import { type StorageGuard, unmonitoredStorage } from "../storage-health.js";
import type { PgDb } from "./open-postgres.js";
import { organizationSettings } from "./schema.js";

/** The jsonb column's shape: the domain's, with the sealed codes as base64. */
interface StoredVerificationSettings {
  limits: Partial<Limits>;
  phoneCountries: PhoneCountries;
  testContacts: { channel: Channel; value: string; keyId: string; sealedCode: string }[];
}

export class PostgresOrganizationSettingsStore implements OrganizationSettingsStore {
  constructor(
    private readonly db: PgDb,
    private readonly storage: StorageGuard = unmonitoredStorage,
  ) {}

  async verificationSettings(organizationId: string): Promise<VerificationSettings> {
    const [row] = await this.storage.use(() =>
      this.db
        .select({ verification: organizationSettings.verification })
        .from(organizationSettings)
        .where(eq(organizationSettings.organizationId, organizationId)),
    );
    return row === undefined ? defaultVerificationSettings : fromStored(row.verification as StoredVerificationSettings);
  }

  async setVerificationSettings(organizationId: string, settings: VerificationSettings, at: Date): Promise<void> {
    const verification = toStored(settings);
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
      .map((row) => ({ organizationId: row.organizationId, testContacts: fromStored(row.verification as StoredVerificationSettings).testContacts }))
      .filter((organization) => organization.testContacts.length > 0);
  }
}

function toStored(settings: VerificationSettings): StoredVerificationSettings {
  return {
    limits: settings.limits,
    phoneCountries: settings.phoneCountries,
    testContacts: settings.testContacts.map((contact) => ({
      channel: contact.channel,
      value: contact.value,
      keyId: contact.sealedCode.keyId,
      sealedCode: Buffer.from(contact.sealedCode.sealed).toString("base64"),
    })),
  };
}

function fromStored(stored: StoredVerificationSettings): VerificationSettings {
  return {
    limits: stored.limits,
    phoneCountries: stored.phoneCountries,
    testContacts: stored.testContacts.map((contact) => ({
      channel: contact.channel,
      value: contact.value,
      sealedCode: { keyId: contact.keyId, sealed: new Uint8Array(Buffer.from(contact.sealedCode, "base64")) },
    })),
  };
}
