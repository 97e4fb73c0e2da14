// A test's own look into the SQLite file of a server that may be running. The server holds its file exclusively while
// no other verifyd process has it open, so the test announces itself as verifyd's commands do and waits (SQLite's
// busy timeout) for the server to let go.
import Database from "better-sqlite3";
import { announcePresence } from "../../src/store/sqlite/file-presence.js";

export function openLiveDatabase(path: string, options: Database.Options = {}): Database.Database {
  const presence = announcePresence(path);
  const sqlite = new Database(path, { timeout: 5_000, ...options });
  const close = sqlite.close.bind(sqlite);
  sqlite.close = () => {
    close();
    presence.withdraw();
    return sqlite;
  };
  return sqlite;
}
