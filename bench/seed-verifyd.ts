// Seeds verifyd's database with users whose phone numbers await a code, fast enough for a million: one template user
// is added through verifyd's own API (AddHumanUser with return_code), then its rows are copied directly into SQLite for
// every user with the user id, the number and the code's hash in place of the template's. The rows are verifyd's own,
// whatever its schema and state format look like today; the hash comes from verifyd's own code HMAC and keyring.
import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { createCodeHasher } from "../src/crypto/code-hmac.js";
import { parseKeyList } from "../src/crypto/keyring.js";
import { seededUser } from "./bench-users.js";
import { type VerifydOptions, adminToken, startVerifyd } from "./verifyd.js";

const template = { userId: "bench-template-user", phone: "+41770000000" };
const usersPerTransaction = 10_000;

/** Seeds `count` users into a fresh `options.dataDir`; returns the administrator's bearer token. */
export async function seedVerifyd(options: VerifydOptions, count: number): Promise<string> {
  rmSync(options.dataDir, { recursive: true, force: true });
  mkdirSync(options.dataDir, { recursive: true });
  // The template's code lives as long as production allows, so that a long bench never sees codes expire.
  const server = await startVerifyd({ ...options, args: ["--code-ttl", "24h"] });
  const token = adminToken(options.dataDir);
  let templateCode: string;
  try {
    templateCode = await addTemplateUser(server.url, token);
  } finally {
    // A graceful stop closes the database, which checkpoints the WAL into the file.
    await server.stop();
  }
  const hasher = createCodeHasher(parseKeyList(options.secrets.keys));
  const hashOf = (userId: string, phone: string, code: string) => hasher.hash(code, { userId, channel: "phone", destination: phone }).hash;
  const templateHash = hashOf(template.userId, template.phone, templateCode);

  const db = new Database(join(options.dataDir, "verifyd.sqlite"));
  try {
    db.pragma("synchronous = OFF");
    // The user id first: it also finds the template's rows.
    const templateValues = [template.userId, template.phone, templateHash];
    const copyUsers = rowCopier(db, "users", "id", templateValues);
    const copyEvents = rowCopier(db, "events", "aggregate_id", templateValues);
    const copyBatch = db.transaction((first: number, end: number) => {
      for (let index = first; index < end; index++) {
        const { userId, phone, code } = seededUser(index);
        const values = [userId, phone, hashOf(userId, phone, code)];
        copyUsers(values);
        copyEvents(values);
      }
    });
    for (let first = 0; first < count; first += usersPerTransaction) copyBatch(first, Math.min(count, first + usersPerTransaction));
    db.pragma("wal_checkpoint(TRUNCATE)");
  } finally {
    db.close();
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

/**
 * Inserts copies of the template's rows in `table` (those whose `keyColumn` is the template user), each template value
 * in `from` replaced by the copy's value at the same position wherever it occurs in a text column. Where each value
 * occurs is found once, on the template, so that a copy only replaces where it must.
 */
function rowCopier(db: Database.Database, table: string, keyColumn: string, from: readonly string[]) {
  const rows = db.prepare(`SELECT * FROM ${table} WHERE ${keyColumn} = ?`).all(from[0]) as Record<string, unknown>[];
  if (rows.length === 0) throw new Error(`the template user has no rows in ${table}`);
  const columns = Object.keys(rows[0] as object);
  const insert = db.prepare(`INSERT INTO ${table} (${columns.map((c) => `"${c}"`).join(", ")}) VALUES (${columns.map(() => "?").join(", ")})`);
  const plans = rows.map((row) =>
    columns.map((column) => {
      const value = row[column];
      const found = typeof value === "string" ? from.flatMap((text, position) => (value.includes(text) ? [position] : [])) : [];
      return { value, found };
    }),
  );
  return (to: readonly string[]) => {
    for (const plan of plans) {
      insert.run(plan.map(({ value, found }) => found.reduce((copy, position) => (copy as string).replaceAll(from[position] as string, to[position] as string), value)));
    }
  };
}
