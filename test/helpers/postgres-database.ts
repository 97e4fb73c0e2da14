// A PostgreSQL database of its own for each test (or test file) that asks, on the server at 127.0.0.1:5432 (user
// postgres, trust; .ci/start-postgres provides one) or at VERIFYD_TEST_POSTGRES_URL, so that runs and files never see
// each other's data.
import { randomBytes } from "node:crypto";
import pg from "pg";
import { onTestFinished } from "vitest";

export const postgresServerUrl = process.env.VERIFYD_TEST_POSTGRES_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";

export interface PostgresDatabase {
  url: string;
  /** Drops the database, with any connections still open to it. */
  drop(): Promise<void>;
  /** A raw query on it, for checks a test makes behind the service's back. */
  query<T extends pg.QueryResultRow = Record<string, unknown>>(text: string, params?: unknown[]): Promise<T[]>;
}

/** A new, empty database; the caller drops it (in afterAll, for a file's). */
export async function newPostgresDatabase(): Promise<PostgresDatabase> {
  const name = `verifyd_test_${process.pid}_${randomBytes(4).toString("hex")}`;
  await onPostgresServer((client) => client.query(`CREATE DATABASE ${name}`));
  const url = new URL(postgresServerUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => void (await onPostgresServer((client) => client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`))),
    query: async <T extends pg.QueryResultRow>(text: string, params: unknown[] = []) =>
      onServer(url.toString(), async (client) => (await client.query<T>(text, params)).rows),
  };
}

/** The URL of a new, empty database, dropped when the test ends. */
export async function createPostgresDatabase(): Promise<string> {
  const database = await newPostgresDatabase();
  onTestFinished(database.drop);
  return database.url;
}

/** Work on the server's maintenance database, for what a test does as the operator (ALTER DATABASE and the like). */
export function onPostgresServer<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  return onServer(postgresServerUrl, work);
}

async function onServer<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}
