// Kii-style applications against each dialect: found by id with their key hash, listed per organization without it,
// ids unique, and always of an organization that exists.
import { describe, expect, it } from "vitest";
import type { Application } from "../../src/domain/applications/application.js";
import type { Dialect } from "../../src/store/stores.js";
import { dialects, openStoreHarness } from "./support/store-harness.js";

const at = (minute: number) => new Date(Date.UTC(2026, 0, 1, 12, minute));

async function storeWithOrganizations(dialect: Dialect, ...ids: string[]) {
  const { stores } = await openStoreHarness(dialect);
  for (const id of ids) await stores.organizations.add({ id, name: id, createdAt: at(0) });
  return { store: stores.applications };
}

const application = (id: string, organizationId: string, minute: number): Application => ({
  id,
  organizationId,
  name: `App ${id}`,
  createdAt: at(minute),
});

/** SQLite's error says so itself; PostgreSQL's comes wrapped in drizzle's, which names the query. */
const violatesForeignKey = (error: unknown) =>
  /foreign key/i.test(`${(error as Error).message} ${((error as Error).cause as Error | undefined)?.message}`);

describe.each(dialects)("%s application store", (dialect) => {
  it("finds an application with its key hash, and lists an organization's without, oldest first", async () => {
    const { store } = await storeWithOrganizations(dialect, "acme", "beta");
    expect(await store.add(application("0000000b", "acme", 2), "hash-b")).toBe(true);
    expect(await store.add(application("0000000a", "acme", 1), "hash-a")).toBe(true);
    expect(await store.add(application("0000000c", "beta", 0), "hash-c")).toBe(true);

    expect(await store.find("0000000b")).toEqual({ ...application("0000000b", "acme", 2), keyHash: "hash-b" });
    expect(await store.find("ffffffff")).toBeUndefined();
    expect(await store.list("acme")).toEqual([application("0000000a", "acme", 1), application("0000000b", "acme", 2)]);
    expect(await store.list("beta")).toEqual([application("0000000c", "beta", 0)]);
    expect(await store.list("nobody")).toEqual([]);
  });

  it("refuses an id that is taken, keeping the application that has it", async () => {
    const { store } = await storeWithOrganizations(dialect, "acme", "beta");
    expect(await store.add(application("12345678", "acme", 1), "first")).toBe(true);
    expect(await store.add(application("12345678", "beta", 2), "second")).toBe(false);
    expect(await store.find("12345678")).toEqual({ ...application("12345678", "acme", 1), keyHash: "first" });
    expect(await store.list("beta")).toEqual([]);
  });

  it("removes an application once: it is gone from lookups and its organization's list", async () => {
    const { store } = await storeWithOrganizations(dialect, "acme");
    await store.add(application("aaaa0001", "acme", 1), "hash-1");
    await store.add(application("aaaa0002", "acme", 2), "hash-2");
    expect(await store.remove("aaaa0001")).toBe(true);
    expect(await store.remove("aaaa0001")).toBe(false);
    expect(await store.find("aaaa0001")).toBeUndefined();
    expect(await store.list("acme")).toEqual([application("aaaa0002", "acme", 2)]);
  });

  it("belongs to an organization that exists", async () => {
    const { store } = await storeWithOrganizations(dialect, "acme");
    await expect(store.add(application("bbbb0001", "nobody", 1), "hash")).rejects.toSatisfy(violatesForeignKey);
  });
});
