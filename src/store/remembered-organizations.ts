// Organizations are neither renamed nor removed: no command does either, in any dialect. So an organization found once
// is found again, the same, for as long as the process runs, and `find` answers it from memory: AddHumanUser reads its
// organization on every call, and that read (drizzle's mapping and a read transaction) was 17 µs of a 495 µs call in
// `npm run bench -- --profile --rows verifyd-grpc-add`. An id not found is asked for again each time: another process
// sharing the database may add it meanwhile.
import type { Organization, OrganizationStore } from "../domain/ports.js";

/** Organizations are few; past this many the memory starts over rather than grow without bound. */
const maxRemembered = 4096;

export function rememberingFoundOrganizations(store: OrganizationStore): OrganizationStore {
  const found = new Map<string, Readonly<Organization>>();
  return {
    defaultOrganization: () => store.defaultOrganization(),
    async find(id) {
      const known = found.get(id);
      if (known) return known;
      const organization = await store.find(id);
      if (organization) {
        if (found.size >= maxRemembered) found.clear();
        found.set(id, organization);
      }
      return organization;
    },
    add: (organization) => store.add(organization),
    list: (query) => store.list(query),
  };
}
