// Run as a process of its own: from the given instant on, records `times` outcomes, each a new one, so that several
// processes running it together race to record each outcome first. The database is a SQLite file or a postgres:// URL.
import { randomUUID } from "node:crypto";
import { openStore } from "../../../src/store/open-store.js";

const [database, times = "1", startAt = "0"] = process.argv.slice(2) as [string, string?, string?];
const connection = await openStore(database);
const log = connection.stores({ newId: randomUUID }).securityLog;
while (Date.now() < Number(startAt));
for (let i = 0; i < Number(times); i++) {
  await log.record({ kind: "login.failed", clientAddress: "192.0.2.1", detail: { attempt: String(i) } }, new Date());
}
await connection.close();
