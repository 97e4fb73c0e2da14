// Test contacts verify without a delivered code, so whoever runs the server must see at every start which numbers
// and addresses are such back doors (never their codes), or that this server ignores them.
import type { OrganizationSettingsStore } from "../domain/organizations/verification-settings.js";
import type { Logger } from "../logger.js";

export async function announceTestContacts(
  settings: Pick<OrganizationSettingsStore, "organizationsWithTestContacts">,
  honoured: boolean,
  logger: Logger,
): Promise<void> {
  const organizations = await settings.organizationsWithTestContacts();
  if (!honoured) {
    if (organizations.length > 0) {
      logger.warn("organizations have test contacts, which this server ignores; in production, --test-contacts honours them", {
        organizationIds: organizations.map((organization) => organization.organizationId),
      });
    }
    return;
  }
  for (const { organizationId, testContacts } of organizations) {
    logger.info("test contacts: fixed codes, never delivered", {
      organizationId,
      testContacts: testContacts.map((contact) => contact.value),
    });
  }
}
