import { describe, expect, it } from "vitest";
import { SqliteOrganizationStore } from "../../src/store/sqlite-organization-store.js";
import { openTemp } from "./support/temp-database.js";

function ids(prefix: string): () => string {
  let n = 0;
  return () => `${prefix}-${++n}`;
}

describe("SqliteOrganizationStore", () => {
  it("creates the default organization once and finds it by id", async () => {
    const organizations = new SqliteOrganizationStore(openTemp().db, ids("org"));
    const first = await organizations.defaultOrganization();

    expect(first).toMatchObject({ id: "org-1", name: "Default" });
    expect(first.createdAt).toBeInstanceOf(Date);
    expect(await organizations.defaultOrganization()).toEqual(first);
    expect(await organizations.find(first.id)).toEqual(first);
    expect(await organizations.find("org-2")).toBeUndefined();
  });

  it("ends with one default organization when two processes ask for it", async () => {
    const one = openTemp();
    const two = openTemp(one.path);
    const fromOne = new SqliteOrganizationStore(one.db, ids("one"));
    const fromTwo = new SqliteOrganizationStore(two.db, ids("two"));

    const [a, b] = await Promise.all([fromOne.defaultOrganization(), fromTwo.defaultOrganization()]);
    expect(b).toEqual(a);
    expect(one.sqlite.prepare("SELECT count(*) AS n FROM organizations").get()).toEqual({ n: 1 });
  });
});
