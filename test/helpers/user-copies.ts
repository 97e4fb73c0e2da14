// Many users in one organization, quickly: copies of one user's row in the users projection, each with an id, username
// and verified email of its own (copy-<n>, copy-user-<n>, copy-user-<n>@example.com), made by the database itself in one
// statement, as the bench seeds its users (bench/seed-verifyd.ts). Only the projection is copied, which is all that
// lists read. Write them while no server runs on the database: one transaction of this size holds SQLite's write lock
// longer than a server's own writes wait for it.
import Database from "better-sqlite3";
import pg from "pg";

/** Adds `count` copies of the user `templateId` to `database` (a SQLite file or a PostgreSQL URL). */
export async function addUserCopies(database: string, templateId: string, count: number): Promise<void> {
  if (database.startsWith("postgres")) await addPostgresCopies(database, templateId, count);
  else addSqliteCopies(database, templateId, count);
}

function addSqliteCopies(path: string, templateId: string, count: number): void {
  const sqlite = new Database(path);
  try {
    sqlite
      .prepare(
        `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
         INSERT INTO users (id, resource_owner, username, sequence, created_at, changed_at, state, kind, status, verified_phone, verified_email)
         SELECT 'copy-' || i, resource_owner, 'copy-user-' || i, sequence, created_at + i, changed_at + i,
           json_set(state, '$.id', 'copy-' || i, '$.username', 'copy-user-' || i, '$.email.verified', 'copy-user-' || i || '@example.com'),
           kind, status, NULL, 'copy-user-' || i || '@example.com'
         FROM users, n WHERE users.id = ?`,
      )
      .run(count, templateId);
  } finally {
    sqlite.close();
  }
}

async function addPostgresCopies(url: string, templateId: string, count: number): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(
      `INSERT INTO users (id, resource_owner, username, sequence, created_at, changed_at, state, kind, status, verified_phone, verified_email)
       SELECT 'copy-' || i, resource_owner, 'copy-user-' || i, sequence, created_at + i * interval '1 ms', changed_at + i * interval '1 ms',
         jsonb_set(jsonb_set(jsonb_set(state, '{id}', to_jsonb('copy-' || i)), '{username}', to_jsonb('copy-user-' || i)),
           '{email,verified}', to_jsonb('copy-user-' || i || '@example.com')),
         kind, status, NULL, 'copy-user-' || i || '@example.com'
       FROM users, generate_series(1, $1::int) AS i WHERE users.id = $2`,
      [count, templateId],
    );
    // Statistics and a visibility map, as autovacuum would leave them.
    await client.query("VACUUM (ANALYZE) users");
  } finally {
    await client.end();
  }
}
