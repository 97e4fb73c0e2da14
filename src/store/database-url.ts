// Which database a DATABASE_URL names, and how to show it without its password.

/** postgres:// or postgresql://: the URL selects PostgreSQL; anything else is a SQLite file. */
export function isPostgresUrl(database: string): boolean {
  return /^postgres(ql)?:\/\//i.test(database);
}

/** SQLite's names for a database of the connection's own: in memory, or a temporary file it deletes at close. */
export function isPrivateDatabase(database: string): boolean {
  return database === ":memory:" || database === "";
}

/** The URL without its password, for messages and logs. */
export function redactedUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    return parsed.toString();
  } catch {
    return "postgres://(unparsable URL)";
  }
}
