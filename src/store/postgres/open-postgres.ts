// Connects to the PostgreSQL database that several verifyd processes share, and brings its schema up to date under
// an advisory lock, so that processes starting at the same moment apply each migration once. Anything that keeps the
// database from opening is a StartupError naming the server (never its password) and what to do.
import { join } from "node:path";
import { type NodePgDatabase, drizzle } from "drizzle-orm/node-postgres";
import { migrate } from "drizzle-orm/node-postgres/migrator";
import pg from "pg";
import type { Logger } from "../../logger.js";
import { coalesceRepeats } from "../../log-repeats.js";
import { StartupError } from "../../startup-error.js";
import { redactedUrl } from "../database-url.js";
import { type Migration, buildMigrations, pendingAfter, refuseNewerSchema } from "../migration-journal.js";
import { type CaseClash, type CaseFolding, caseClashesRefusal, mailboxFolding, migratesToFolding, usernameFolding } from "../case-clashes.js";
import { isPostgresFailure } from "./postgres-errors.js";
import { withSessionLock } from "./session-lock.js";

export type PgDb = NodePgDatabase & { $client: pg.Pool };

export const migrationsFolder = join(import.meta.dirname, "migrations");

export interface PostgresOptions {
  /** Connections this process keeps at most. */
  poolSize?: number;
  /** How long a call waits for a connection (new or from the pool) before it fails as Unavailable. */
  connectTimeoutMs?: number;
  /** The server cancels a statement running longer (statement_timeout). */
  statementTimeoutMs?: number;
  /** As for SQLite: "apply" brings the schema up to date, "refuse" refuses a database that lacks migrations. */
  migrations?: "apply" | "refuse";
  logger?: Logger;
}

export interface PostgresHandle {
  db: PgDb;
  /** A cheap read, for health checks. */
  probeRead(): Promise<void>;
  /** A write the size of a large call, for health checks while writes fail. */
  probeWrite(): Promise<void>;
  /** This build's migrations the database lacks, as last seen (refreshed in the background at most once a second). */
  pendingMigrations(): number;
  /** The migrations the database lacked and now has, oldest first. */
  appliedMigrations: string[];
  close(): Promise<void>;
}

const probeBytes = Buffer.alloc(64 * 1024);
// pg_advisory_lock's key for migrations: any fixed number other code does not lock ("vfyd" in ASCII).
const migrationLockKey = 0x76667964;
const migrationsTable = { migrationsSchema: "drizzle", migrationsTable: "__drizzle_migrations" };

export async function openPostgres(url: string, options: PostgresOptions = {}): Promise<PostgresHandle> {
  const pool = new pg.Pool({
    connectionString: url,
    max: options.poolSize ?? 10,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 5_000,
    ...(options.statementTimeoutMs ? statementBounds(options.statementTimeoutMs) : {}),
    // TCP keepalives: a connection whose server vanished without a word (a lost machine) is found and dropped.
    keepAlive: true,
    application_name: "verifyd",
  });
  // A connection the server drops (a restart, a failover) emits "error": the pool listens on idle ones only, and an
  // unheard "error" ends the process. One in use between two statements of a transaction would go unheard, so every
  // connection gets a listener of its own; the statements using it fail on their own and answer Unavailable.
  // The pool passes an idle one's on as its own "error", which must be heard too (the connection's listener logged it).
  // A restart drops every pooled connection at once: one line, with how many, rather than one per connection.
  const warnDropped = coalesceRepeats<string>(
    (message, connections) => options.logger?.warn("PostgreSQL dropped a connection", { error: message, count: connections }),
    { intervalMs: 60_000, maxKeys: 8 },
  );
  const dropped = (error: Error) => warnDropped(error.message, error.message);
  pool.on("connect", (client) => client.on("error", dropped));
  pool.on("error", () => undefined);
  const db = drizzle({ client: pool });
  try {
    const carried = buildMigrations(migrationsFolder);
    const newestApplied = () => newestAppliedMigration(pool);
    const newestAtStart = await newestApplied();
    refuseNewerSchema(carried, newestAtStart, redactedUrl(url));
    const missing = pendingAfter(carried, newestAtStart).map((migration) => migration.tag);
    let applied: string[] = [];
    if (missing.length > 0) {
      if (options.migrations === "refuse") {
        throw new StartupError(
          `the database ${redactedUrl(url)} lacks migrations of this version (${missing.join(", ")}); apply them first with \`verifyd migrate\``,
        );
      }
      await refuseCaseClashes(pool, url, missing);
      applied = await migrateUnderLock(pool, db, async () => pendingAfter(carried, await newestApplied()).map((migration) => migration.tag));
    }
    let pending = 0;
    let checkedAt = Number.NEGATIVE_INFINITY;
    return {
      db,
      probeRead: async () => void (await pool.query("SELECT 1")),
      probeWrite: async () =>
        void (await pool.query(
          "INSERT INTO storage_probe (id, written_at, room) VALUES (1, now(), $1) ON CONFLICT (id) DO UPDATE SET written_at = excluded.written_at, room = excluded.room",
          [probeBytes],
        )),
      pendingMigrations() {
        if (performance.now() - checkedAt >= 1_000) {
          checkedAt = performance.now();
          newestApplied().then(
            (newest) => void (pending = pendingAfter(carried, newest).length),
            () => undefined, // The storage check reports an unreachable database.
          );
        }
        return pending;
      },
      appliedMigrations: applied,
      close: () => pool.end(),
    };
  } catch (error) {
    await pool.end();
    throw isPostgresFailure(error) || isConnectionRefusal(error) || isTlsFailure(error) ? explainOpenFailure(error as Error, url) : error;
  }
}

/** What a client waits beyond the statement timeout for an answer before it gives up on a connection that hangs. */
const readTimeoutMarginMs = 2_000;

/**
 * Every statement ends within about `statementTimeoutMs`, whatever becomes of the connection or of another process:
 * - the server cancels a statement that runs longer (`statement_timeout`);
 * - the client gives up a little later when the server's answer does not come (`query_timeout`): a network that hangs
 *   sends nothing, not even the server's cancellation (a trial's calls waited out a 45 s freeze, then answered 200);
 * - the server ends a session left idle inside a transaction for half of it (`idle_in_transaction_session_timeout`):
 *   a process stopped mid-transaction (a paused VM, a partition, a long pause) holds its locks, and every other
 *   instance's calls on the same users and limits wait on them. Ended at half, the waiters get their locks before
 *   their own statements time out (a trial's healthy instances sent nothing for 10 s, then answered 503 and reported
 *   their storage failing). verifyd's transactions send their statements back to back.
 */
function statementBounds(statementTimeoutMs: number): pg.PoolConfig {
  return {
    statement_timeout: statementTimeoutMs,
    query_timeout: statementTimeoutMs + readTimeoutMarginMs,
    idle_in_transaction_session_timeout: Math.ceil(statementTimeoutMs / 2),
  };
}

/** This build's migrations the database lacks, without changing anything (for `verifyd migrate --check`). */
export async function pendingPostgresMigrations(url: string): Promise<Migration[]> {
  const pool = new pg.Pool({ connectionString: url, max: 1 });
  try {
    const carried = buildMigrations(migrationsFolder);
    const newest = await newestAppliedMigration(pool);
    refuseNewerSchema(carried, newest, redactedUrl(url));
    return pendingAfter(carried, newest);
  } catch (error) {
    throw isPostgresFailure(error) || isConnectionRefusal(error) || isTlsFailure(error) ? explainOpenFailure(error as Error, url) : error;
  } finally {
    await pool.end();
  }
}

async function newestAppliedMigration(pool: pg.Pool): Promise<number | undefined> {
  const exists = await pool.query<{ present: string | null }>("SELECT to_regclass('drizzle.__drizzle_migrations') AS present");
  if (exists.rows[0]?.present === null) return undefined;
  const { rows } = await pool.query<{ newest: string | null }>("SELECT max(created_at) AS newest FROM drizzle.__drizzle_migrations");
  const newest = rows[0]?.newest;
  return newest === null || newest === undefined ? undefined : Number(newest);
}

/**
 * Drizzle's migrator applies what is missing in one transaction, but two processes starting at once would both find
 * the same migrations missing; the session lock makes the second wait and then find nothing left to do.
 */
/**
 * Applies what the database still lacks once this process holds the lock, and returns it: another process starting at
 * the same moment may have applied some or all of it meanwhile (three `verifyd migrate` at once each said they had
 * applied every migration, found by a trial).
 */
async function migrateUnderLock(pool: pg.Pool, db: PgDb, stillMissing: () => Promise<string[]>): Promise<string[]> {
  return withSessionLock(pool, migrationLockKey, async () => {
    const missing = await stillMissing();
    if (missing.length > 0) await migrate(db, { migrationsFolder, ...migrationsTable });
    return missing;
  });
}

/** The users that one migration's folding of a login name's case would make share one, by organization. */
const caseClashes = new Map<CaseFolding, string>([
  [
    mailboxFolding,
    `SELECT resource_owner AS "organizationId", string_agg(id, ', ' ORDER BY id) AS "userIds" FROM users
     WHERE verified_email IS NOT NULL GROUP BY lower(verified_email), resource_owner HAVING count(*) > 1`,
  ],
  [
    usernameFolding,
    `SELECT resource_owner AS "organizationId", string_agg(id, ', ' ORDER BY id) AS "userIds" FROM users
     GROUP BY lower(username COLLATE "C"), resource_owner HAVING count(*) > 1`,
  ],
]);

async function refuseCaseClashes(pool: pg.Pool, url: string, missing: readonly string[]): Promise<void> {
  for (const [folding, query] of caseClashes) {
    if (!migratesToFolding(missing, folding)) continue;
    const { rows } = await pool.query<CaseClash>(query);
    const refusal = caseClashesRefusal(redactedUrl(url), folding, rows);
    if (refusal !== undefined) throw new StartupError(refusal);
  }
}

/** Authentication, a missing database or role: the server answered, and refused. */
function isConnectionRefusal(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  return code === "28P01" || code === "28000" || code === "3D000";
}

/**
 * TLS to the server failed: it offers none ("The server does not support SSL connections"), or its certificate does
 * not verify.
 */
function isTlsFailure(error: unknown): boolean {
  const { code, message } = error as { code?: unknown; message?: unknown };
  return (typeof message === "string" && /\bSSL\b/.test(message)) || (typeof code === "string" && /CERT|^ERR_TLS|^ERR_SSL/.test(code));
}

function explainOpenFailure(error: Error, url: string): StartupError {
  const code = (error as { code?: string }).code;
  const where = redactedUrl(url);
  if (isTlsFailure(error)) {
    return new StartupError(
      `TLS to PostgreSQL at ${where} failed (${code ?? error.message}); with sslmode in DATABASE_URL the server must offer TLS with a certificate this machine trusts`,
    );
  }
  if (code === "3D000") return new StartupError(`the database in ${where} does not exist (${error.message}); create it first (createdb)`);
  if (code === "28P01" || code === "28000") {
    return new StartupError(`PostgreSQL refused the login in ${where} (${error.message}); check the user and password in DATABASE_URL`);
  }
  // Reached, but refused: "cannot reach" would send the operator looking for a server that runs.
  if (code === "53300") {
    return new StartupError(
      `PostgreSQL at ${where} has no connection left for this process (53300: ${error.message}); close what holds its connections, or raise its max_connections (each verifyd holds up to --database-pool-size)`,
    );
  }
  if (code === "57P03") return new StartupError(`PostgreSQL at ${where} does not take connections yet (57P03: ${error.message}); start verifyd once it does`);
  return new StartupError(`cannot reach PostgreSQL at ${where} (${code ?? error.message}); check that it runs and DATABASE_URL names it`);
}
