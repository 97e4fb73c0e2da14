// Kii-style applications in SQLite: looked up by id on every call that carries an app's credentials.
import { asc, eq, sql } from "drizzle-orm";
import type { Application, ApplicationStore } from "../../domain/applications/application.js";
import type { Db } from "./open-database.js";
import { applications } from "./schema.js";
import { isUniqueViolation } from "./sqlite-errors.js";
import { type StorageGuard, unmonitoredStorage } from "../storage-health.js";

const placeholder = sql.placeholder;
const columns = {
  id: applications.id,
  organizationId: applications.organizationId,
  name: applications.name,
  createdAt: applications.createdAt,
};

export class SqliteApplicationStore implements ApplicationStore {
  private readonly insertOne;
  private readonly selectOne;
  private readonly selectByOrganization;
  private readonly deleteOne;

  constructor(
    db: Db,
    private readonly storage: StorageGuard = unmonitoredStorage,
  ) {
    this.insertOne = db
      .insert(applications)
      .values({
        id: placeholder("id"),
        organizationId: placeholder("organizationId"),
        name: placeholder("name"),
        keyHash: placeholder("keyHash"),
        createdAt: placeholder("createdAt"),
      })
      .prepare();
    this.selectOne = db
      .select({ ...columns, keyHash: applications.keyHash })
      .from(applications)
      .where(eq(applications.id, placeholder("id")))
      .prepare();
    this.selectByOrganization = db
      .select(columns)
      .from(applications)
      .where(eq(applications.organizationId, placeholder("organizationId")))
      .orderBy(asc(applications.createdAt), asc(applications.id))
      .prepare();
    this.deleteOne = db.delete(applications).where(eq(applications.id, placeholder("id"))).prepare();
  }

  async add(application: Application, keyHash: string): Promise<boolean> {
    try {
      this.storage.write(() => this.insertOne.run({ ...application, keyHash }));
      return true;
    } catch (error) {
      if (isUniqueViolation(error, "applications.id")) return false;
      throw error;
    }
  }

  async find(id: string): Promise<(Application & { keyHash: string }) | undefined> {
    return this.storage.use(() => this.selectOne.get({ id }));
  }

  async list(organizationId: string): Promise<Application[]> {
    return this.storage.use(() => this.selectByOrganization.all({ organizationId }));
  }

  async remove(id: string): Promise<boolean> {
    return this.storage.write(() => this.deleteOne.run({ id }).changes > 0);
  }
}
