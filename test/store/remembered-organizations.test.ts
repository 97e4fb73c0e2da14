// The server's organizations, remembered once found (src/store/remembered-organizations.ts), against each dialect: a
// found organization is answered the same from memory, and an id not found is asked for again, so an organization
// that another process adds after a miss is found from then on.
import { describe, expect, it } from "vitest";
import { rememberingFoundOrganizations } from "../../src/store/remembered-organizations.js";
import { dialects, openStoreHarness } from "./support/store-harness.js";

describe.each(dialects)("%s organizations remembered once found", (dialect) => {
  it("answers a found organization from memory, and finds one another process adds after a miss", async () => {
    const harness = await openStoreHarness(dialect);
    const otherProcess = (await harness.reopen()).stores.organizations;
    const organizations = rememberingFoundOrganizations(harness.stores.organizations);
    const acme = { id: "acme", name: "Acme", createdAt: new Date(Date.UTC(2026, 0, 2)) };

    expect(await organizations.find("acme")).toBeUndefined();
    await otherProcess.add(acme);
    expect(await organizations.find("acme")).toEqual(acme);

    // Organizations are never removed through verifyd; a row taken away behind its back shows that the answer is
    // remembered rather than read again.
    await harness.rows("DELETE FROM organizations WHERE id = $1 RETURNING id", ["acme"]);
    expect(await organizations.find("acme")).toEqual(acme);
    expect(await harness.stores.organizations.find("acme")).toBeUndefined();
  });

  it("passes adding and listing on to the store", async () => {
    const harness = await openStoreHarness(dialect);
    const organizations = rememberingFoundOrganizations(harness.stores.organizations);
    await organizations.add({ id: "beta", name: "Beta", createdAt: new Date(Date.UTC(2026, 0, 3)) });

    await expect(organizations.add({ id: "other", name: "Beta", createdAt: new Date() })).rejects.toMatchObject({ kind: "AlreadyExists" });
    const listed = await organizations.list({ filters: [], offset: 0, limit: 10, ascending: true, sortBy: "name" });
    expect(listed.organizations.map((organization) => organization.id)).toContain("beta");
    expect((await organizations.defaultOrganization()).id).toBe((await harness.stores.organizations.defaultOrganization()).id);
  });
});
