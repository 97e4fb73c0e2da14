// Organizations in SQLite. Only the default one is created here, on first start.
import { eq, sql } from "drizzle-orm";
import type { Organization, OrganizationStore } from "../domain/ports.js";
import type { Db } from "./open-database.js";
import { organizations } from "./schema.js";
import { type StorageGuard, unmonitoredStorage } from "./storage-health.js";

const columns = { id: organizations.id, name: organizations.name, createdAt: organizations.createdAt };

export class SqliteOrganizationStore implements OrganizationStore {
  private readonly selectById;
  private readonly selectDefault;
  private readonly insertDefault;

  constructor(
    db: Db,
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

  async defaultOrganization(): Promise<Organization> {
    return this.storage.use(() => this.findOrCreateDefault());
  }

  async find(id: string): Promise<Organization | undefined> {
    return this.storage.use(() => this.selectById.get({ id }));
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
