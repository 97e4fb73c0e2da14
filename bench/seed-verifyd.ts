// Seeds verifyd's database with users whose phone numbers await a code, fast enough for a million: one template user
// is added through verifyd's own API (AddHumanUser with return_code), then its rows are copied directly into the
// database for every user with the user id, the number and the code's hash in place of the template's. The rows are
// verifyd's own, whatever its schema and state format look like today; the hash comes from verifyd's own code HMAC
// and keyring. SQLite copies row by row in-process; PostgreSQL copies a batch per statement, the replacing done by
// the server, since a round trip per row would take minutes for a million.
import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import pg from "pg";
import { createCodeHasher } from "../src/crypto/code-hmac.js";
import { parseKeyList } from "../src/crypto/keyring.js";
import { seededUser } from "./bench-users.js";
import { recreateDatabase } from "./postgres.js";
import { type VerifydOptions, adminToken, startVerifyd } from "./verifyd.js";

const template = { userId: "bench-template-user", phone: "+41770000000" };
const usersPerTransaction = 10_000;
/** Where the template's rows are, by the column that holds its user id. */
const tables = [
  { table: "users", keyColumn: "id" },
  { table: "events", keyColumn: "aggregate_id" },
] as const;

/** Inserts, for each copy, the template's rows with the template's values (user id first) replaced by the copy's. */
interface TemplateCopier {
  copy(copies: readonly (readonly string[])[]): void | Promise<void>;
  /** Leaves the database as verifyd would find it after a long time, then closes it. */
  close(): void | Promise<void>;
}

/** Seeds `count` users into a fresh database (`options.postgresUrl`'s, or in `options.dataDir`); the administrator's bearer token. */
export async function seedVerifyd(options: VerifydOptions, count: number): Promise<string> {
  rmSync(options.dataDir, { recursive: true, force: true });
  mkdirSync(options.dataDir, { recursive: true });
  if (options.postgresUrl) await recreateDatabase(options.postgresUrl);
  // The template's code lives as long as production allows, so that a long bench never sees codes expire.
  const server = await startVerifyd({ ...options, args: ["--code-ttl", "24h"] });
  const token = adminToken(options.dataDir);
  let templateCode: string;
  try {
    templateCode = await addTemplateUser(server.url, token);
  } finally {
    // A graceful stop closes the database, which (on SQLite) checkpoints the WAL into the file.
    await server.stop();
  }
  const hasher = createCodeHasher(parseKeyList(options.secrets.keys));
  const hashOf = (userId: string, phone: string, code: string) => hasher.hash(code, { userId, channel: "phone", destination: phone }).hash;
  // The user id first: it also finds the template's rows.
  const templateValues = [template.userId, template.phone, hashOf(template.userId, template.phone, templateCode)];
  const copier = options.postgresUrl
    ? await postgresCopier(options.postgresUrl, templateValues)
    : sqliteCopier(join(options.dataDir, "verifyd.sqlite"), templateValues);
  try {
    for (let first = 0; first < count; first += usersPerTransaction) {
      const copies = Array.from({ length: Math.min(count, first + usersPerTransaction) - first }, (_, offset) => {
        const { userId, phone, code } = seededUser(first + offset);
        return [userId, phone, hashOf(userId, phone, code)];
      });
      await copier.copy(copies);
    }
  } finally {
    await copier.close();
  }
  return token;
}

async function addTemplateUser(url: string, token: string): Promise<string> {
  const response = await fetch(`${url}/v2/users/human`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify({
      userId: template.userId,
      profile: { givenName: "Bench", familyName: "Template" },
      phone: { phone: template.phone, returnCode: {} },
    }),
  });
  const answer = (await response.json()) as { phoneCode?: string };
  if (!response.ok || !answer.phoneCode) throw new Error(`AddHumanUser for the template answered ${response.status}: ${JSON.stringify(answer)}`);
  return answer.phoneCode;
}

/** The positions in `from` of the template values that occur in `value`, found once so a copy only replaces where it must. */
function occurrences(value: unknown, from: readonly string[]): number[] {
  return typeof value === "string" ? from.flatMap((text, position) => (value.includes(text) ? [position] : [])) : [];
}

function sqliteCopier(path: string, from: readonly string[]): TemplateCopier {
  const db = new Database(path);
  db.pragma("synchronous = OFF");
  try {
    return sqliteCopierOn(db, from);
  } catch (error) {
    db.close();
    throw error;
  }
}

function sqliteCopierOn(db: Database.Database, from: readonly string[]): TemplateCopier {
  const copiers = tables.map(({ table, keyColumn }) => {
    const rows = db.prepare(`SELECT * FROM ${table} WHERE ${keyColumn} = ?`).all(from[0]) as Record<string, unknown>[];
    if (rows.length === 0) throw new Error(`the template user has no rows in ${table}`);
    const columns = Object.keys(rows[0] as object);
    const insert = db.prepare(`INSERT INTO ${table} (${columns.map((c) => `"${c}"`).join(", ")}) VALUES (${columns.map(() => "?").join(", ")})`);
    const plans = rows.map((row) => columns.map((column) => ({ value: row[column], found: occurrences(row[column], from) })));
    return (to: readonly string[]) => {
      for (const plan of plans) {
        insert.run(plan.map(({ value, found }) => found.reduce((copy, position) => (copy as string).replaceAll(from[position] as string, to[position] as string), value)));
      }
    };
  });
  const copyBatch = db.transaction((copies: readonly (readonly string[])[]) => {
    for (const to of copies) for (const copyRows of copiers) copyRows(to);
  });
  return {
    copy: (copies) => copyBatch(copies),
    close() {
      db.pragma("wal_checkpoint(TRUNCATE)");
      db.close();
    },
  };
}

/**
 * One INSERT ... SELECT per table and batch: the template's rows joined with the batch's values (one array parameter
 * per template value), every column where a template value occurs replaced in its text form and cast back.
 */
async function postgresCopier(url: string, from: readonly string[]): Promise<TemplateCopier> {
  const client = new pg.Client({ connectionString: url, application_name: "verifyd-bench-seed" });
  await client.connect();
  try {
    return await postgresCopierOn(client, from);
  } catch (error) {
    await client.end();
    throw error;
  }
}

async function postgresCopierOn(client: pg.Client, from: readonly string[]): Promise<TemplateCopier> {
  // Nothing is lost if the machine fails mid-seed that a new run would not redo.
  await client.query("SET synchronous_commit = off");
  const quote = pg.escapeIdentifier;
  const valueColumns = from.map((_, position) => `v${position}`);
  const templateParameter = (position: number) => `$${from.length + 1 + position}`;
  const inserts: string[] = [];
  for (const { table, keyColumn } of tables) {
    const { rows: columns } = await client.query<{ name: string; type: string }>(
      "SELECT attname AS name, format_type(atttypid, atttypmod) AS type FROM pg_attribute WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum",
      [table],
    );
    const { rows } = await client.query<Record<string, string | null>>(
      `SELECT ${columns.map(({ name }) => `${quote(name)}::text AS ${quote(name)}`).join(", ")} FROM ${quote(table)} WHERE ${quote(keyColumn)} = $1`,
      [from[0]],
    );
    if (rows.length === 0) throw new Error(`the template user has no rows in ${table}`);
    const copied = columns.map(({ name, type }) => {
      // Replacing in a column where one template row has the value and another has not changes nothing in the latter.
      const found = [...new Set(rows.flatMap((row) => occurrences(row[name], from)))];
      if (found.length === 0) return `t.${quote(name)}`;
      const replaced = found.reduce((text, position) => `replace(${text}, ${templateParameter(position)}, u.v${position})`, `t.${quote(name)}::text`);
      return `(${replaced})::${type}`;
    });
    inserts.push(
      `INSERT INTO ${quote(table)} (${columns.map(({ name }) => quote(name)).join(", ")}) SELECT ${copied.join(", ")} ` +
        `FROM ${quote(table)} AS t CROSS JOIN unnest(${valueColumns.map((_, position) => `$${position + 1}::text[]`).join(", ")}) AS u(${valueColumns.join(", ")}) ` +
        `WHERE t.${quote(keyColumn)} = ${templateParameter(0)}`,
    );
  }
  return {
    async copy(copies) {
      const parameters = [...from.map((_, position) => copies.map((to) => to[position])), ...from];
      await client.query("BEGIN");
      for (const insert of inserts) await client.query(insert, parameters);
      await client.query("COMMIT");
    },
    async close() {
      try {
        // Statistics for the planner and a visibility map, as autovacuum would leave them; without it, autovacuum
        // would start on the new rows in the middle of a measured phase.
        await client.query(`VACUUM (ANALYZE) ${tables.map(({ table }) => quote(table)).join(", ")}`);
      } finally {
        await client.end();
      }
    },
  };
}
