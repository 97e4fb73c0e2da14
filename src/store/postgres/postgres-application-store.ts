// Kii-style applications in PostgreSQL: looked up by id on every call that carries an app's credentials.
import { asc, eq } from "drizzle-orm";
import type { Application, ApplicationStore } from "../../domain/applications/application.js";
import { type StorageGuard, unmonitoredStorage } from "../storage-health.js";
import type { PgDb } from "./open-postgres.js";
import { isUniqueViolation } from "./postgres-errors.js";
import { applications } from "./schema.js";

const columns = {
  id: applications.id,
  organizationId: applications.organizationId,
  name: applications.name,
  createdAt: applications.createdAt,
};

export class PostgresApplicationStore implements ApplicationStore {
  constructor(
    private readonly db: PgDb,
    private readonly storage: StorageGuard = unmonitoredStorage,
  ) {}

  async add(application: Application, keyHash: string): Promise<boolean> {
    const { id, organizationId, name, createdAt } = application;
    try {
      await this.storage.write(() => this.db.insert(applications).values({ id, organizationId, name, keyHash, createdAt }));
      return true;
    } catch (error) {
      if (isUniqueViolation(error, "applications_pkey")) return false;
      throw error;
    }
  }

  async find(id: string): Promise<(Application & { keyHash: string }) | undefined> {
    const [row] = await this.storage.use(() =>
      this.db
        .select({ ...columns, keyHash: applications.keyHash })
        .from(applications)
        .where(eq(applications.id, id)),
    );
    return row;
  }

  async list(organizationId: string): Promise<Application[]> {
    return this.storage.use(() =>
      this.db
        .select(columns)
        .from(applications)
        .where(eq(applications.organizationId, organizationId))
        .orderBy(asc(applications.createdAt), asc(applications.id)),
    );
  }

  async remove(id: string): Promise<boolean> {
    const result = await this.storage.write(() => this.db.delete(applications).where(eq(applications.id, id)));
    return (result.rowCount ?? 0) > 0;
  }
}
