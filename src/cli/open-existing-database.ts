// The database an administrative command works on. It must exist (a mistyped path must not make a new, empty one)
// and have this version's schema: the command neither creates nor migrates, since a server of another version may be
// using it. The integrity check is the server's, at its start.
import { randomUUID } from "node:crypto";
import { openStore } from "../store/open-store.js";
import type { DatabaseConnection, Stores } from "../store/stores.js";

export async function openExistingDatabase(database: string): Promise<DatabaseConnection> {
  return openStore(database, { create: false, migrations: "refuse", integrityCheck: false });
}

/** Runs `work` on the stores of the existing database, closing it afterwards. */
export async function withExistingStores<T>(database: string, work: (stores: Stores) => Promise<T>): Promise<T> {
  const connection = await openExistingDatabase(database);
  try {
    return await work(connection.stores({ newId: randomUUID }));
  } finally {
    await connection.close();
  }
}
