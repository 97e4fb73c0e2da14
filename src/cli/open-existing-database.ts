// The database an administrative command works on. It must exist (a mistyped path must not make a new, empty one)
// and have this version's schema: the command neither creates nor migrates, since a server of another version may be
// using the file. The integrity check is the server's, at its start.
import { type DatabaseHandle, openDatabase } from "../store/open-database.js";

export function openExistingDatabase(path: string): DatabaseHandle {
  return openDatabase(path, { create: false, migrations: "refuse", integrityCheck: false });
}
