// Organizations in PostgreSQL: the default one, created on first start by whichever process gets there first, and
// those added through the API.
import { type SQL, type SQLWrapper, asc, count, desc, eq, sql } from "drizzle-orm";
import { errors } from "../../domain/errors.js";
import type { OrganizationPage, OrganizationQuery } from "../../domain/organizations/organization-query.js";
import type { Organization, OrganizationStore } from "../../domain/ports.js";
import { listedOrganization, organizationListCondition } from "../organization-list.js";
import { type StorageGuard, unmonitoredStorage } from "../storage-health.js";
import type { PgDb } from "./open-postgres.js";
import { isUniqueViolation } from "./postgres-errors.js";
import { postgresConditions } from "./postgres-text-condition.js";
import { organizations } from "./schema.js";

const columns = { id: organizations.id, name: organizations.name, createdAt: organizations.createdAt };
const listCondition = organizationListCondition(organizations, postgresConditions);

export class PostgresOrganizationStore implements OrganizationStore {
  private knownDefault: Promise<Organization> | undefined;

  constructor(
    private readonly db: PgDb,
    private readonly newId: () => string,
    private readonly storage: StorageGuard = unmonitoredStorage,
  ) {}

  /** Read once: organizations are neither renamed nor removed, so the default one never changes once it exists. */
  async defaultOrganization(): Promise<Organization> {
    if (!this.knownDefault) {
      this.knownDefault = this.findOrCreateDefault();
      // A failed read is not kept: the next call tries again.
      this.knownDefault.catch(() => (this.knownDefault = undefined));
    }
    return this.knownDefault;
  }

  private findOrCreateDefault(): Promise<Organization> {
    return this.storage.use(async () => {
      const existing = await this.findDefault();
      if (existing) return existing;
      // When processes start at once, the unique marker lets the first insert win; the others' inserts wait for it
      // to commit, do nothing, and read the winner's row. No conflict target: a racing insert may meet the winner's
      // row in the name's unique index before the marker's, and ON CONFLICT (is_default) would raise that one.
      await this.db
        .insert(organizations)
        .values({ id: this.newId(), name: "Default", createdAt: new Date(), isDefault: true })
        .onConflictDoNothing();
      const created = await this.findDefault();
      if (!created) throw new Error('no default organization after creating it: another organization is named "Default"');
      return created;
    });
  }

  async find(id: string): Promise<Organization | undefined> {
    const [row] = await this.storage.use(() => this.db.select(columns).from(organizations).where(eq(organizations.id, id)));
    return row;
  }

  async add(organization: Organization): Promise<void> {
    const { id, name, createdAt } = organization;
    try {
      await this.storage.write(() => this.db.insert(organizations).values({ id, name, createdAt }));
    } catch (error) {
      if (isUniqueViolation(error, "organizations_name_unique") || isUniqueViolation(error, "organizations_pkey")) {
        throw errors.organizationNameTaken();
      }
      throw error;
    }
  }

  async list(query: OrganizationQuery): Promise<OrganizationPage> {
    if (query.within?.length === 0) return { total: 0, organizations: [] };
    const where = listCondition(query);
    // Names in code point order, as SQLite sorts them, whatever the database's collation.
    const order = query.sortBy === "name" ? bytewise(organizations.name) : organizations.createdAt;
    return this.storage.use(async () => {
      const [counted] = await this.db.select({ total: count() }).from(organizations).where(where);
      const rows = await this.db
        .select({ ...columns, isDefault: organizations.isDefault })
        .from(organizations)
        .where(where)
        .orderBy(query.ascending ? asc(order) : desc(order), asc(organizations.id))
        .limit(query.limit)
        .offset(query.offset);
      return {
        total: counted?.total ?? 0,
        organizations: rows.map(listedOrganization),
      };
    });
  }

  private async findDefault(): Promise<Organization | undefined> {
    const [row] = await this.db.select(columns).from(organizations).where(eq(organizations.isDefault, true));
    return row;
  }
}

function bytewise(column: SQLWrapper): SQL {
  return sql`${column} COLLATE "C"`;
}
