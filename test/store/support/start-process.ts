// Run as a process of its own: starts as the service does (opening the file, ensuring the default organization)
// at the given instant, so several processes start together, and prints the default organization's id.
import { randomUUID } from "node:crypto";
import { openDatabase } from "../../../src/store/sqlite/open-database.js";
import { SqliteOrganizationStore } from "../../../src/store/sqlite/sqlite-organization-store.js";

const [path, startAt = "0"] = process.argv.slice(2) as [string, string?];
while (Date.now() < Number(startAt));
const { db, close } = openDatabase(path);
const organization = await new SqliteOrganizationStore(db, randomUUID).defaultOrganization();
close();
process.stdout.write(organization.id);
