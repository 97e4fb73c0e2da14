// Which database a DATABASE_URL names, and how to show it without its password.

/** postgres:// or postgresql://: the URL selects PostgreSQL; anything else is a SQLite file. */
export function isPostgresUrl(database: string): boolean {
  return /^postgres(ql)?:\/\//i.test(database);
}

/** SQLite's names for a database of the connection's own: in memory, or a temporary file it deletes at close. */
export function isPrivateDatabase(database: string): boolean {
  return database === ":memory:" || database === "";
}

/** Query parameters that carry a secret: node-postgres reads `password` (and libpq's `sslpassword`) from the query too. */
const secretParameter = /password|secret|token/i;

/** The URL without its password, in its user part or its query, for messages and logs. */
export function redactedUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    for (const name of [...parsed.searchParams.keys()]) {
      if (secretParameter.test(name)) parsed.searchParams.set(name, "***");
    }
    return parsed.toString();
  } catch {
    return "postgres://(unparsable URL)";
  }
}
