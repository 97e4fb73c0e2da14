// Before this version, two users of one organization could both verify the same phone number or address. The
// migration that makes a verified contact unique per organization would then fail with a bare constraint error; this
// check finds such pairs first and refuses the start with what to do, changing nothing.
import type Database from "better-sqlite3";
import { StartupError } from "../../startup-error.js";

const columns = ["verified_phone", "verified_email"] as const;

export function refuseSharedVerifiedContacts(sqlite: Database.Database, path: string): void {
  if (!needsCheck(sqlite)) return;
  const shared = columns.flatMap((column) =>
    (
      sqlite
        .prepare(
          `SELECT resource_owner AS organizationId, group_concat(id, ', ') AS userIds FROM users
           WHERE ${column} IS NOT NULL GROUP BY ${column}, resource_owner HAVING count(*) > 1`,
        )
        .all() as { organizationId: string; userIds: string }[]
    ).map(({ organizationId, userIds }) => `${column === "verified_phone" ? "phone" : "email"} of users ${userIds} in organization ${organizationId}`),
  );
  if (shared.length === 0) return;
  throw new StartupError(
    `${path}: a verified phone number or address now belongs to one user per organization, and these users share one: ` +
      `${shared.slice(0, 5).join("; ")}${shared.length > 5 ? `; and ${shared.length - 5} more` : ""}. ` +
      "With the previous version, remove or change the contact of all but one user of each group (RemovePhone, or SetEmail and verify the new address: a change counts once verified), then start again",
  );
}

/** Only a database with users that has not yet been given the unique indexes. */
function needsCheck(sqlite: Database.Database): boolean {
  const hasColumn = sqlite.prepare("SELECT 1 FROM pragma_table_info('users') WHERE name = 'verified_phone'").get() !== undefined;
  const hasIndex = sqlite.prepare("SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = 'users_verified_phone_unique'").get() !== undefined;
  return hasColumn && !hasIndex;
}
