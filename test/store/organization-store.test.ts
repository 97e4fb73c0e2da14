// Organizations against each dialect: the default one created exactly once, even when connections race for it, and
// those added through the API, unique by name and id and listed with every filter, page and order.
import { describe, expect, it } from "vitest";
import type { Dialect } from "../../src/store/stores.js";
import { dialects, openStoreHarness } from "./support/store-harness.js";

function ids(prefix: string): () => string {
  let n = 0;
  return () => `${prefix}-${++n}`;
}

describe.each(dialects)("%s organization store", (dialect) => {
  it("creates the default organization once and finds it by id", async () => {
    const { organizations } = (await openStoreHarness(dialect)).storesWith({ newId: ids("org") });
    const first = await organizations.defaultOrganization();

    expect(first).toMatchObject({ id: "org-1", name: "Default" });
    expect(first.createdAt).toBeInstanceOf(Date);
    expect(await organizations.defaultOrganization()).toEqual(first);
    expect(await organizations.find(first.id)).toEqual(first);
    expect(await organizations.find("org-2")).toBeUndefined();
  });

  it("ends with one default organization when two processes ask for it", async () => {
    const one = await openStoreHarness(dialect);
    const two = await one.reopen();
    const fromOne = one.storesWith({ newId: ids("one") }).organizations;
    const fromTwo = two.storesWith({ newId: ids("two") }).organizations;

    const [a, b] = await Promise.all([fromOne.defaultOrganization(), fromTwo.defaultOrganization()]);
    expect(b).toEqual(a);
    expect(await one.count("organizations")).toBe(1);
  });

  it("ends with one default organization when many connections race for it at once, time after time", async () => {
    const first = await openStoreHarness(dialect);
    const others = await Promise.all(Array.from({ length: 4 }, () => first.reopen()));
    // A race is lost only now and then: run it again on an empty table, with new stores (each reads the default once).
    for (let round = 0; round < 20; round++) {
      await first.rows("DELETE FROM organizations RETURNING id");
      const all = [first, ...others].map((harness, i) => harness.storesWith({ newId: ids(`c${i}`) }).organizations);
      const defaults = await Promise.all(all.map((organizations) => organizations.defaultOrganization()));
      expect(new Set(defaults.map((organization) => organization.id)).size).toBe(1);
      expect(await first.count("organizations")).toBe(1);
    }
  });

  describe("added organizations", () => {
    const at = (day: number) => new Date(Date.UTC(2026, 0, day));
    const page = { filters: [], offset: 0, limit: 100, ascending: true, sortBy: "name" } as const;

    /** The default organization and three added ones, in a database of the test's own. */
    async function seeded(dialect: Dialect) {
      const { organizations } = (await openStoreHarness(dialect)).storesWith({ newId: ids("org") });
      await organizations.defaultOrganization();
      await organizations.add({ id: "acme", name: "ACME 100%_", createdAt: at(2) });
      await organizations.add({ id: "beta", name: "Beta", createdAt: at(3) });
      await organizations.add({ id: "gamma", name: "acme labs", createdAt: at(4) });
      const names = async (query: Partial<Parameters<typeof organizations.list>[0]>) =>
        (await organizations.list({ ...page, ...query })).organizations.map((organization) => organization.name);
      return { organizations, names };
    }

    it("refuses a name or an id that is taken", async () => {
      const { organizations } = await seeded(dialect);
      await expect(organizations.add({ id: "other", name: "Beta", createdAt: at(5) })).rejects.toMatchObject({
        kind: "AlreadyExists",
        reason: "ORGANIZATION_ALREADY_EXISTS",
      });
      await expect(organizations.add({ id: "beta", name: "Beta 2", createdAt: at(5) })).rejects.toMatchObject({ kind: "AlreadyExists" });
    });

    it("lists by name, each text method, with % and _ taken literally", async () => {
      const { names } = await seeded(dialect);
      expect(await names({})).toEqual(["ACME 100%_", "Beta", "Default", "acme labs"]);
      expect(await names({ filters: [{ kind: "name", name: "acme", match: "startsWith" }] })).toEqual(["acme labs"]);
      expect(await names({ filters: [{ kind: "name", name: "acme", match: "startsWithIgnoreCase" }] })).toEqual(["ACME 100%_", "acme labs"]);
      expect(await names({ filters: [{ kind: "name", name: "%_", match: "endsWith" }] })).toEqual(["ACME 100%_"]);
      expect(await names({ filters: [{ kind: "name", name: "_", match: "contains" }] })).toEqual(["ACME 100%_"]);
      expect(await names({ filters: [{ kind: "name", name: "beta", match: "equals" }] })).toEqual([]);
      expect(await names({ filters: [{ kind: "name", name: "beta", match: "equalsIgnoreCase" }] })).toEqual(["Beta"]);
      expect(await names({ filters: [{ kind: "default" }] })).toEqual(["Default"]);
      expect(await names({ filters: [{ kind: "id", id: "gamma" }] })).toEqual(["acme labs"]);
    });

    it("matches empty texts, folds ASCII letters alone, and filters by state", async () => {
      const { organizations, names } = await seeded(dialect);
      await organizations.add({ id: "umlaut", name: "Äpfel", createdAt: at(5) });
      expect(await names({ filters: [{ kind: "name", name: "", match: "endsWith" }] })).toHaveLength(5);
      expect(await names({ filters: [{ kind: "name", name: "", match: "equals" }] })).toEqual([]);
      // Like SQLite's lower() and matchesText: Ä is no capital of ä.
      expect(await names({ filters: [{ kind: "name", name: "äpfel", match: "equalsIgnoreCase" }] })).toEqual([]);
      expect(await names({ filters: [{ kind: "name", name: "ÄPFEL", match: "equalsIgnoreCase" }] })).toEqual(["Äpfel"]);
      expect(await names({ filters: [{ kind: "name", name: "pfel", match: "endsWithIgnoreCase" }] })).toEqual(["Äpfel"]);
      expect(await names({ filters: [{ kind: "state", state: "active" }] })).toHaveLength(5);
      expect(await names({ filters: [{ kind: "state", state: "removed" }] })).toEqual([]);
    });

    it("lists only the organizations a caller may see, in pages, with the total", async () => {
      const { organizations, names } = await seeded(dialect);
      expect(await names({ within: ["beta", "gamma"] })).toEqual(["Beta", "acme labs"]);
      expect(await names({ within: [] })).toEqual([]);
      const second = await organizations.list({ ...page, sortBy: "creation", ascending: false, offset: 1, limit: 2 });
      expect(second.total).toBe(4);
      // Newest first: the default organization (created now), then gamma, beta, acme.
      expect(second.organizations.map((organization) => organization.id)).toEqual(["gamma", "beta"]);
      expect(second.organizations.every((organization) => !organization.isDefault)).toBe(true);
    });
  });
});
