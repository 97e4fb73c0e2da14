// Organizations in SQLite: the default one, created on first start, and those added through the API.
import { asc, count, desc, eq, sql } from "drizzle-orm";
import { errors } from "../../domain/errors.js";
import type { OrganizationPage, OrganizationQuery } from "../../domain/organizations/organization-query.js";
import type { Organization, OrganizationStore } from "../../domain/ports.js";
import type { Db } from "./open-database.js";
import { organizations } from "./schema.js";
import { isUniqueViolation } from "./sqlite-errors.js";
import { listedOrganization, organizationListCondition } from "../organization-list.js";
import { sqliteConditions } from "./sqlite-text-condition.js";
import { type StorageGuard, unmonitoredStorage } from "../storage-health.js";

const columns = { id: organizations.id, name: organizations.name, createdAt: organizations.createdAt };
const listCondition = organizationListCondition(organizations, sqliteConditions);

export class SqliteOrganizationStore implements OrganizationStore {
  private readonly selectById;
  private readonly selectDefault;
  private readonly insertDefault;
  private knownDefault: Organization | undefined;

  constructor(
    private readonly db: Db,
    private readonly newId: () => string,
    private readonly storage: StorageGuard = unmonitoredStorage,
  ) {
    this.selectById = db
      .select(columns)
      .from(organizations)
      .where(eq(organizations.id, sql.placeholder("id")))
      .prepare();
    this.selectDefault = db.select(columns).from(organizations).where(eq(organizations.isDefault, true)).prepare();
    // When two processes start at once, the unique marker lets only the first insert win.
    this.insertDefault = db
      .insert(organizations)
      .values({ id: sql.placeholder("id"), name: "Default", createdAt: sql.placeholder("createdAt"), isDefault: true })
      .onConflictDoNothing({ target: organizations.isDefault })
      .prepare();
  }

  /** Read once: organizations are neither renamed nor removed, so the default one never changes once it exists. */
  async defaultOrganization(): Promise<Organization> {
    this.knownDefault ??= this.storage.use(() => this.findOrCreateDefault());
    return this.knownDefault;
  }

  async find(id: string): Promise<Organization | undefined> {
    return this.storage.use(() => this.selectById.get({ id }));
  }

  async add(organization: Organization): Promise<void> {
    try {
      this.storage.write(() => this.db.insert(organizations).values(organization).run());
    } catch (error) {
      if (isUniqueViolation(error, "organizations.")) throw errors.organizationNameTaken();
      throw error;
    }
  }

  async list(query: OrganizationQuery): Promise<OrganizationPage> {
    if (query.within?.length === 0) return { total: 0, organizations: [] };
    const where = listCondition(query);
    const order = query.sortBy === "name" ? organizations.name : organizations.createdAt;
    return this.storage.use(() => {
      const total = this.db.select({ total: count() }).from(organizations).where(where).get()?.total ?? 0;
      const rows = this.db
        .select({ ...columns, isDefault: organizations.isDefault })
        .from(organizations)
        .where(where)
        .orderBy(query.ascending ? asc(order) : desc(order), asc(organizations.id))
        .limit(query.limit)
        .offset(query.offset)
        .all();
      return { total, organizations: rows.map(listedOrganization) };
    });
  }

  private findOrCreateDefault(): Organization {
    const existing = this.selectDefault.get();
    if (existing) return existing;
    this.insertDefault.run({ id: this.newId(), createdAt: new Date() });
    const created = this.selectDefault.get();
    if (!created) throw new Error("the default organization vanished right after it was created");
    return created;
  }
}
