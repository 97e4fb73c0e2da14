// ListUsers against SQLite and PostgreSQL alike: readable users, filters with the same text semantics, paging and order.
import { describe, expect, it } from "vitest";
import type { TextMatch } from "../../src/domain/text-match.js";
import type { UserQuery } from "../../src/domain/users/user-query.js";
import type { Dialect } from "../../src/store/stores.js";
import { dialects, openStoreHarness } from "./support/store-harness.js";
import { changeUser, machineAdded, userAdded } from "./support/user-changes.js";

const everyone: UserQuery = { filters: [], readable: { self: "nobody" }, offset: 0, limit: 100, ascending: true, sortBy: "creation" };

/** Four users in two organizations; bob's phone is verified and then changed to a pending number. */
async function seeded(dialect: Dialect) {
  const { stores } = await openStoreHarness(dialect);
  const { users, userQuery: query } = stores;
  await users.append(userAdded("ada", "ada", "org-1"));
  await users.append(userAdded("bob", "bob", "org-1"));
  await users.append(userAdded("cyd", "cyd", "org-2"));
  await users.append(userAdded("dee", "Ada Lovelace", "org-2"));
  const bob = (await users.load("bob"))!;
  const verified = changeUser(bob, [{ type: "user.human.phone.verified", payload: { value: "+41791234567" } }]);
  await users.append(verified);
  await users.append(changeUser(verified.next, [{ type: "user.human.phone.changed", payload: { value: "+41797654321" } }]));
  const ids = async (change: Partial<UserQuery>) => (await query.list({ ...everyone, ...change })).users.map((user) => user.id);
  return { query, ids };
}

describe.each(dialects)("%s user query", (dialect) => {
  it("lists only what the caller may read: its organizations' users and itself", async () => {
    const { ids } = await seeded(dialect);
    expect(await ids({})).toEqual(["ada", "bob", "cyd", "dee"]);
    expect(await ids({ readable: { organizations: ["org-2"], self: "ada" } })).toEqual(["ada", "cyd", "dee"]);
    expect(await ids({ readable: { organizations: [], self: "bob" } })).toEqual(["bob"]);
  });

  it("filters by organization, username, ids, and the phone GetUserByID shows", async () => {
    const { ids } = await seeded(dialect);
    expect(await ids({ filters: [{ kind: "organization", organizationId: "org-1" }] })).toEqual(["ada", "bob"]);
    expect(await ids({ filters: [{ kind: "username", username: "ada", match: "startsWithIgnoreCase" }] })).toEqual(["ada", "dee"]);
    expect(await ids({ filters: [{ kind: "username", username: "ada", match: "equals" }] })).toEqual(["ada"]);
    expect(await ids({ filters: [{ kind: "ids", ids: ["cyd", "bob"] }] })).toEqual(["bob", "cyd"]);
    const ada = { kind: "username", username: "ada", match: "equals" } as const;
    const cyd = { kind: "username", username: "cyd", match: "equals" } as const;
    expect(await ids({ filters: [{ kind: "or", filters: [ada, cyd] }] })).toEqual(["ada", "cyd"]);
    expect(await ids({ filters: [{ kind: "not", filter: { kind: "or", filters: [ada, cyd] } }] })).toEqual(["bob", "dee"]);
    expect(await ids({ filters: [{ kind: "and", filters: [ada, cyd] }] })).toEqual([]);
    expect(await ids({ filters: [{ kind: "or", filters: [] }] })).toEqual([]);
    // bob shows the verified number while the new one is pending; the others show their unverified one.
    expect(await ids({ filters: [{ kind: "phone", phone: "+41797654321", match: "equals" }] })).toEqual([]);
    expect(await ids({ filters: [{ kind: "phone", phone: "+41791234567", match: "equals" }, { kind: "organization", organizationId: "org-1" }] })).toEqual(["ada", "bob"]);
  });

  it("matches text literally, folding ASCII letters only, as matchesText does", async () => {
    const { stores } = await openStoreHarness(dialect);
    for (const [id, username] of [["e1", "Émile"], ["e2", "émile"], ["e3", "EMILE"], ["w1", "a_b%c"], ["w2", "axbyc"], ["m1", "😀ada"]]) {
      await stores.users.append(userAdded(id!, username!));
    }
    const named = async (username: string, match: TextMatch) =>
      (await stores.userQuery.list({ ...everyone, filters: [{ kind: "username", username, match }] })).users.map((user) => user.id);
    expect(await named("émile", "equalsIgnoreCase")).toEqual(["e2"]);
    expect(await named("Emile", "equalsIgnoreCase")).toEqual(["e3"]);
    expect(await named("MILE", "endsWithIgnoreCase")).toEqual(["e1", "e2", "e3"]);
    expect(await named("MILE", "endsWith")).toEqual(["e3"]);
    expect(await named("a_b", "startsWith")).toEqual(["w1"]);
    expect(await named("B%C", "endsWithIgnoreCase")).toEqual(["w1"]);
    expect(await named("_", "contains")).toEqual(["w1"]);
    expect(await named("%", "containsIgnoreCase")).toEqual(["w1"]);
    // Beyond the Basic Multilingual Plane: one character, two UTF-16 units.
    expect(await named("😀a", "startsWith")).toEqual(["m1"]);
    expect(await named("😀ADA", "endsWithIgnoreCase")).toEqual(["m1"]);
    expect(await named("", "endsWith")).toEqual(["e1", "e2", "e3", "m1", "w1", "w2"]);
    expect(await named("", "equals")).toEqual([]);
  });

  it("pages, sorts and counts everything that matches", async () => {
    const { query } = await seeded(dialect);
    const page = await query.list({ ...everyone, sortBy: "username", ascending: false, offset: 1, limit: 2 });
    expect(page.total).toBe(4);
    // Binary order, descending: cyd, bob, ada, Ada Lovelace.
    expect(page.users.map((user) => user.username)).toEqual(["bob", "ada"]);
  });

  it("sorts by each of ZITADEL's user fields, a missing field first when ascending", async () => {
    const { stores } = await openStoreHarness(dialect);
    const people = [
      ["u1", "zed", { givenName: "Zed", familyName: "Young", nickName: "zz", displayName: "Zed Y" }, "b@example.com"],
      ["u2", "amy", { givenName: "Amy", familyName: "Zorn", displayName: "Amy Z" }, "c@example.com"],
      ["u3", "kim", { givenName: "Kim", familyName: "Abel", nickName: "aa" }, undefined],
    ] as const;
    for (const [id, username, profile, email] of people) {
      await stores.users.append(userAdded(id, username, "org-1", { profile, ...(email ? { email } : {}) }));
    }
    await stores.users.append(machineAdded("m1", "bot"));
    const bot = (await stores.users.load("m1"))!;
    await stores.users.append(changeUser(bot, [{ type: "user.locked", payload: {} }]));
    const sorted = async (sortBy: UserQuery["sortBy"], ascending = true) =>
      (await stores.userQuery.list({ ...everyone, sortBy, ascending })).users.map((user) => user.id);
    expect(await sorted("givenName")).toEqual(["m1", "u2", "u3", "u1"]);
    expect(await sorted("familyName")).toEqual(["m1", "u3", "u1", "u2"]);
    expect(await sorted("nickName")).toEqual(["m1", "u2", "u3", "u1"]);
    // Ties by id, in the sort's direction.
    expect(await sorted("displayName", false)).toEqual(["u1", "u2", "u3", "m1"]);
    expect(await sorted("email")).toEqual(["m1", "u3", "u1", "u2"]);
    expect(await sorted("status", false)).toEqual(["m1", "u3", "u2", "u1"]);
    expect(await sorted("type", false)).toEqual(["m1", "u3", "u2", "u1"]);
    expect(await sorted("username")).toEqual(["u2", "m1", "u3", "u1"]);
  });
});
