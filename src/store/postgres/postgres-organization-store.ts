// Organizations in PostgreSQL: the default one, created on first start by whichever process gets there first, and
// those added through the API.
import { type SQL, type SQLWrapper, and, asc, count, desc, eq, inArray, sql } from "drizzle-orm";
import { errors } from "../../domain/errors.js";
import type {
  ListedOrganization,
  OrganizationFilter,
  OrganizationPage,
  OrganizationQuery,
} from "../../domain/organizations/organization-query.js";
import type { Organization, OrganizationStore } from "../../domain/ports.js";
import type { TextMatch } from "../../domain/text-match.js";
import { type StorageGuard, unmonitoredStorage } from "../storage-health.js";
import type { PgDb } from "./open-postgres.js";
import { isUniqueViolation } from "./postgres-errors.js";
import { organizations } from "./schema.js";

const columns = { id: organizations.id, name: organizations.name, createdAt: organizations.createdAt };

export class PostgresOrganizationStore implements OrganizationStore {
  constructor(
    private readonly db: PgDb,
    private readonly newId: () => string,
    private readonly storage: StorageGuard = unmonitoredStorage,
  ) {}

  async defaultOrganization(): Promise<Organization> {
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
    const conditions = [
      ...query.filters.map(filterCondition),
      ...(query.within ? [inArray(organizations.id, [...query.within])] : []),
    ];
    const where = and(...conditions);
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
        organizations: rows.map((row): ListedOrganization => ({ ...row, isDefault: row.isDefault === true })),
      };
    });
  }

  private async findDefault(): Promise<Organization | undefined> {
    const [row] = await this.db.select(columns).from(organizations).where(eq(organizations.isDefault, true));
    return row;
  }
}

function filterCondition(filter: OrganizationFilter): SQL | undefined {
  switch (filter.kind) {
    case "id":
      return eq(organizations.id, filter.id);
    case "default":
      return eq(organizations.isDefault, true);
    case "name":
      return textCondition(organizations.name, filter.match, filter.name);
    case "state":
      return filter.state === "active" ? sql`true` : sql`false`;
  }
}

function bytewise(column: SQLWrapper): SQL {
  return sql`${column} COLLATE "C"`;
}

/**
 * A text filter with the meaning of src/store/text-condition.ts (SQLite) and matchesText: plain string functions, not
 * LIKE, whose % and _ a value may hold, and "ignoring case" folding ASCII letters only, which lower() does under the
 * "C" collation.
 */
function textCondition(column: SQLWrapper, match: TextMatch, value: string): SQL {
  const ignoreCase = match.endsWith("IgnoreCase");
  const text = ignoreCase ? sql`lower(${bytewise(column)})` : sql`${column}`;
  const wanted = ignoreCase ? value.replace(/[A-Z]/g, (letter) => letter.toLowerCase()) : value;
  const method = match.replace("IgnoreCase", "");
  // Every text starts with, ends with and contains the empty string.
  if (wanted === "" && method !== "equals") return sql`true`;
  switch (method) {
    case "startsWith":
      return sql`starts_with(${text}, ${wanted})`;
    case "endsWith":
      // right() counts characters: code points.
      return sql`right(${text}, ${[...wanted].length}) = ${wanted}`;
    case "contains":
      return sql`strpos(${text}, ${wanted}) > 0`;
    default:
      return sql`${text} = ${wanted}`;
  }
}
