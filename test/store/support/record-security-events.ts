// Run as a process of its own: from the given instant on, records `times` outcomes, each a new one, so that several
// processes running it together race to record each outcome first.
import { openDatabase } from "../../../src/store/open-database.js";
import { SqliteSecurityLog } from "../../../src/store/sqlite-security-log.js";

const [path, times = "1", startAt = "0"] = process.argv.slice(2) as [string, string?, string?];
const { db, close } = openDatabase(path);
const log = new SqliteSecurityLog(db);
while (Date.now() < Number(startAt));
for (let i = 0; i < Number(times); i++) {
  await log.record({ kind: "login.failed", clientAddress: "192.0.2.1", detail: { attempt: String(i) } }, new Date());
}
close();
