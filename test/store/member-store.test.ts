// Administrators against each dialect: a user's roles per resource, instance roles apart, changed, listed and removed;
// one membership per user and resource.
import { describe, expect, it } from "vitest";
import type { Dialect } from "../../src/store/stores.js";
import { dialects, openStoreHarness } from "./support/store-harness.js";
import { userAdded } from "./support/user-changes.js";

const at = (minute: number) => new Date(Date.UTC(2026, 0, 1, 12, minute));

async function storesWithUser(dialect: Dialect, userId: string, username: string) {
  const { stores } = await openStoreHarness(dialect);
  await stores.users.append(userAdded(userId, username));
  return { members: stores.members };
}

describe.each(dialects)("%s administrators", (dialect) => {
  it("keeps a user's roles per resource, instance roles apart, and changes and removes them", async () => {
    const { members } = await storesWithUser(dialect, "m1", "grace");
    await members.add({ userId: "m1", organizationId: "", roles: ["IAM_OWNER"], createdAt: at(0), changedAt: at(0) });
    await members.add({ userId: "m1", organizationId: "o1", roles: ["ORG_USER_VIEWER"], createdAt: at(1), changedAt: at(1) });
    expect(await members.grantsOf("m1")).toEqual({
      instanceRoles: ["IAM_OWNER"],
      organizationRoles: new Map([["o1", ["ORG_USER_VIEWER"]]]),
    });

    expect(await members.update("m1", "o1", ["ORG_OWNER"], at(2))).toBe(true);
    expect(await members.list(["o1"])).toEqual([
      { userId: "m1", organizationId: "o1", roles: ["ORG_OWNER"], createdAt: at(1), changedAt: at(2) },
    ]);
    expect((await members.list()).map((member) => member.organizationId)).toEqual(["", "o1"]);
    expect(await members.list([])).toEqual([]);
    expect(await members.update("m1", "o2", ["ORG_OWNER"], at(2))).toBe(false);

    expect(await members.remove("m1", "o1")).toBe(true);
    expect(await members.remove("m1", "o1")).toBe(false);
    expect((await members.grantsOf("m1")).organizationRoles.size).toBe(0);
  });

  it("refuses a second membership on the same resource as AlreadyExists", async () => {
    const { members } = await storesWithUser(dialect, "m2", "alan");
    await members.add({ userId: "m2", organizationId: "o1", roles: ["ORG_OWNER"], createdAt: at(0), changedAt: at(0) });
    await expect(
      members.add({ userId: "m2", organizationId: "o1", roles: ["ORG_OWNER"], createdAt: at(0), changedAt: at(0) }),
    ).rejects.toMatchObject({ reason: "ADMINISTRATOR_ALREADY_EXISTS" });
  });

  it("refuses a membership of a user that is gone as USER_NOT_FOUND (deleted after the call found it)", async () => {
    const { members } = await storesWithUser(dialect, "m3", "grace");
    await expect(
      members.add({ userId: "gone", organizationId: "o1", roles: ["ORG_OWNER"], createdAt: at(0), changedAt: at(0) }),
    ).rejects.toMatchObject({ kind: "NotFound", reason: "USER_NOT_FOUND" });
  });
});
