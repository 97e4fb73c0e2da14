// Two login names became one in any letter case in this version's migrations: a verified email address, which is a
// login name by its mailbox (domain/email-address.ts), and a username, by its ASCII letters (usernameKey in
// domain/credentials/login-name.ts). Before, two users of one organization could verify `Ada@example.com` and
// `ada@example.com`, or be named `Ada` and `ada`; the migration's unique index would then fail with a bare constraint
// error. So each dialect looks for such users before it migrates, and the start is refused with what to do, changing
// nothing.

/** Users of one organization whose login names are one in any case; their ids separated by ", ". */
export interface CaseClash {
  organizationId: string;
  userIds: string;
}

export interface CaseFolding {
  /** How the migration that folds the case ends its tag, in either dialect. */
  migration: string;
  /** What became one login name in any case. */
  loginName: string;
  /** What an operator does about the users that share one, with the previous version. */
  remedy: string;
}

export const mailboxFolding: CaseFolding = {
  migration: "_email_mailboxes",
  loginName: "a verified email address",
  remedy: "change the address of all but one user of each group (SetEmail) and verify the new one (a changed address counts once verified)",
};

export const usernameFolding: CaseFolding = {
  migration: "_usernames_in_any_case",
  loginName: "a username",
  remedy: "delete all but one user of each group (DeleteUser) and add them again under usernames that differ in more than case",
};

/** Whether the migrations a database lacks include the folding's, on a database that has users. */
export function migratesToFolding(missingTags: readonly string[], folding: CaseFolding): boolean {
  // Drizzle numbers migrations from 0000: a database that lacks the first has no users yet.
  return missingTags.some((tag) => tag.endsWith(folding.migration)) && !missingTags.some((tag) => tag.startsWith("0000_"));
}

export function caseClashesRefusal(where: string, folding: CaseFolding, clashes: readonly CaseClash[]): string | undefined {
  if (clashes.length === 0) return undefined;
  const listed = clashes.slice(0, 5).map(({ organizationId, userIds }) => `users ${userIds} in organization ${organizationId}`);
  return (
    `${where}: ${folding.loginName} is now one login name in any letter case, and these users share one: ` +
    `${listed.join("; ")}${clashes.length > 5 ? `; and ${clashes.length - 5} more` : ""}. ` +
    `With the previous version, ${folding.remedy}, then start again`
  );
}
