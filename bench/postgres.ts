// The PostgreSQL server the bench's PostgreSQL rows run on: the database it replaces at every run (so that each run
// starts from the same seeded state), what the header says about the server, and the CPU time of the backends that
// serve the bench's database, which is part of each call's cost as much as verifyd's own CPU time.
import pg from "pg";
import { processCpuSeconds } from "./server-process.js";

/** The database a URL names, and the same server's maintenance database, from which the former is replaced. */
function splitUrl(url: string): { database: string; maintenanceUrl: string } {
  const parsed = new URL(url);
  const database = decodeURIComponent(parsed.pathname.slice(1));
  if (!database) throw new Error(`--postgres ${url} names no database`);
  parsed.pathname = "/postgres";
  return { database, maintenanceUrl: parsed.toString() };
}

async function withMaintenanceClient<T>(url: string, work: (client: pg.Client, database: string) => Promise<T>): Promise<T> {
  const { database, maintenanceUrl } = splitUrl(url);
  const client = new pg.Client({ connectionString: maintenanceUrl, application_name: "verifyd-bench" });
  await client.connect();
  try {
    return await work(client, database);
  } finally {
    await client.end();
  }
}

/** Drops the URL's database, whoever is connected to it, and creates it empty. */
export function recreateDatabase(url: string): Promise<void> {
  return withMaintenanceClient(url, async (client, database) => {
    const name = pg.escapeIdentifier(database);
    await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await client.query(`CREATE DATABASE ${name}`);
  });
}

/** For the header: the server's version and whether each commit waits for its WAL flush (as it does by default). */
export function describePostgres(url: string): Promise<string> {
  return withMaintenanceClient(url, async (client) => {
    const { rows } = await client.query<{ version: string; commit: string }>(
      "SELECT current_setting('server_version') AS version, current_setting('synchronous_commit') AS commit",
    );
    const { host, port } = new URL(url);
    return `PostgreSQL ${rows[0]?.version} at ${host || "localhost"}${port ? "" : ":5432"}, synchronous_commit ${rows[0]?.commit}`;
  });
}

/** CPU time per backend process (pid) of the database, at one moment. */
export type BackendCpu = Map<number, number>;

/**
 * Reads the CPU time of the database's client backends from /proc, which works when PostgreSQL runs on this machine
 * (it shares the cores with the servers and the generator, so that is the case that matters here). The WAL writer and
 * the checkpointer serve every database on the server, other people's too, and are not counted.
 */
export async function openBackendCpuMeter(url: string): Promise<{ sample(): Promise<BackendCpu>; close(): Promise<void> }> {
  const { database, maintenanceUrl } = splitUrl(url);
  const client = new pg.Client({ connectionString: maintenanceUrl, application_name: "verifyd-bench" });
  await client.connect();
  return {
    async sample() {
      const { rows } = await client.query<{ pid: number }>(
        "SELECT pid FROM pg_stat_activity WHERE datname = $1 AND backend_type = 'client backend'",
        [database],
      );
      const sample: BackendCpu = new Map();
      for (const { pid } of rows) {
        const seconds = processCpuSeconds(pid);
        if (seconds !== undefined) sample.set(pid, seconds);
      }
      return sample;
    },
    close: () => client.end(),
  };
}

/** The backends' CPU time between two samples; a backend that ended in between loses what it used meanwhile. */
export function backendCpuSecondsBetween(before: BackendCpu, after: BackendCpu): number {
  let seconds = 0;
  for (const [pid, now] of after) seconds += now - (before.get(pid) ?? 0);
  return seconds;
}
