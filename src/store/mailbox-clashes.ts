// Before this version a verified email address was a login name in the case it was verified in, so two users of one
// organization could verify `Ada@example.com` and `ada@example.com`. The migration that keeps an address by its
// mailbox (domain/email-address.ts) would then fail with a bare constraint error: each dialect looks for such users
// before it migrates, and the start is refused with what to do, changing nothing.

/** How the migration that brings verified addresses to their mailboxes ends its tag, in either dialect. */
const mailboxMigration = "_email_mailboxes";

/** Users of one organization whose verified addresses name one mailbox; their ids separated by ", ". */
export interface MailboxClash {
  organizationId: string;
  userIds: string;
}

/** Whether the migrations a database lacks bring existing users' addresses to their mailboxes. */
export function migratesToMailboxes(missingTags: readonly string[]): boolean {
  // Drizzle numbers migrations from 0000: a database that lacks the first has no users yet.
  return missingTags.some((tag) => tag.endsWith(mailboxMigration)) && !missingTags.some((tag) => tag.startsWith("0000_"));
}

export function mailboxClashesRefusal(where: string, clashes: readonly MailboxClash[]): string | undefined {
  if (clashes.length === 0) return undefined;
  const listed = clashes.slice(0, 5).map(({ organizationId, userIds }) => `users ${userIds} in organization ${organizationId}`);
  return (
    `${where}: a verified email address is now one login name in any letter case, and these users share one: ` +
    `${listed.join("; ")}${clashes.length > 5 ? `; and ${clashes.length - 5} more` : ""}. ` +
    "With the previous version, change the address of all but one user of each group (SetEmail) and verify the new one (a changed address counts once verified), then start again"
  );
}
