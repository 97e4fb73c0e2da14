// Bearer tokens against each dialect: found by their hash only until they expire, with their holder's status,
// organization and roles; listed per user and kind; removed at once.
import { describe, expect, it } from "vitest";
import { hashAccessToken, issueAccessToken } from "../../src/crypto/access-token-secret.js";
import { dialects, openStoreHarness } from "./support/store-harness.js";
import { userAdded } from "./support/user-changes.js";

const at = (minute: number) => new Date(Date.UTC(2026, 0, 1, 12, minute));

async function tokensOfUser(dialect: (typeof dialects)[number]) {
  const harness = await openStoreHarness(dialect);
  await harness.stores.users.append(userAdded("u1", "ada"));
  return { ...harness, tokens: harness.stores.tokens };
}

describe.each(dialects)("%s access tokens", (dialect) => {
  it("finds a token by its hash only, and only until it expires", async () => {
    const { tokens, rows } = await tokensOfUser(dialect);
    const { token, tokenHash } = issueAccessToken();
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(tokenHash).toBe(hashAccessToken(token));
    await tokens.add({ id: "t1", userId: "u1", kind: "personal", createdAt: at(0), expiresAt: at(30), tokenHash });

    expect(await tokens.findValid(tokenHash, at(29))).toEqual({
      id: "t1",
      userId: "u1",
      kind: "personal",
      createdAt: at(0),
      expiresAt: at(30),
      holder: { status: "active", organizationId: "org-1", grants: { instanceRoles: [], organizationRoles: new Map() } },
    });
    expect(await tokens.findValid(tokenHash, at(30))).toBeUndefined();
    expect(await tokens.findValid(hashAccessToken(`${token}x`), at(1))).toBeUndefined();
    expect(JSON.stringify(await rows("SELECT * FROM access_tokens"))).not.toContain(token);
  });

  it("refuses a token for a user that is gone as USER_NOT_FOUND (deleted after the call found it)", async () => {
    const { tokens, rows } = await tokensOfUser(dialect);
    const { tokenHash } = issueAccessToken();
    await expect(
      tokens.add({ id: "t1", userId: "gone", kind: "login", createdAt: at(0), expiresAt: at(30), tokenHash }),
    ).rejects.toMatchObject({ kind: "NotFound", reason: "USER_NOT_FOUND" });
    expect(await rows("SELECT * FROM access_tokens")).toEqual([]);
  });

  it("reads the holder's roles with the token, as they stand at each lookup", async () => {
    const { tokens, stores } = await tokensOfUser(dialect);
    const { tokenHash } = issueAccessToken();
    await tokens.add({ id: "t1", userId: "u1", kind: "personal", createdAt: at(0), expiresAt: at(30), tokenHash });
    await stores.members.add({ userId: "u1", organizationId: "", roles: ["IAM_OWNER"], createdAt: at(0), changedAt: at(0) });
    await stores.members.add({ userId: "u1", organizationId: "org-2", roles: ["ORG_OWNER", "ORG_USER_MANAGER"], createdAt: at(0), changedAt: at(0) });
    expect((await tokens.findValid(tokenHash, at(1)))?.holder.grants).toEqual({
      instanceRoles: ["IAM_OWNER"],
      organizationRoles: new Map([["org-2", ["ORG_OWNER", "ORG_USER_MANAGER"]]]),
    });
    await stores.members.update("u1", "org-2", ["ORG_USER_MANAGER"], at(2));
    await stores.members.remove("u1", "");
    expect((await tokens.findValid(tokenHash, at(3)))?.holder.grants).toEqual({
      instanceRoles: [],
      organizationRoles: new Map([["org-2", ["ORG_USER_MANAGER"]]]),
    });
  });

  // A dialect may remember what it found (SQLite does): whatever changes the token or its holder, through any
  // connection and any statement, must count from the next lookup.
  it("sees changes made beside the store, on this connection or another, at the next lookup", async () => {
    const { tokens, rows, reopen } = await tokensOfUser(dialect);
    const other = await reopen();
    const { tokenHash } = issueAccessToken();
    await tokens.add({ id: "t1", userId: "u1", kind: "personal", createdAt: at(0), expiresAt: at(30), tokenHash });
    const lookup = () => tokens.findValid(tokenHash, at(1));
    const holder = async () => (await lookup())?.holder;

    expect((await holder())?.grants.instanceRoles).toEqual([]);
    await rows("INSERT INTO members (user_id, organization_id, roles, created_at, changed_at) VALUES ($1, '', $2, $3, $4) RETURNING user_id", [
      "u1",
      JSON.stringify(["IAM_OWNER"]),
      ...Array(2).fill(dialect === "sqlite" ? at(0).getTime() : at(0)),
    ]);
    expect((await holder())?.grants.instanceRoles).toEqual(["IAM_OWNER"]);
    await other.rows("UPDATE members SET roles = $1 WHERE user_id = $2 RETURNING user_id", [JSON.stringify(["IAM_OWNER_VIEWER"]), "u1"]);
    expect((await holder())?.grants.instanceRoles).toEqual(["IAM_OWNER_VIEWER"]);

    await rows("UPDATE users SET status = 'inactive' WHERE id = $1 RETURNING id", ["u1"]);
    expect((await holder())?.status).toBe("inactive");
    await other.rows("UPDATE users SET status = 'active', resource_owner = 'org-2' WHERE id = $1 RETURNING id", ["u1"]);
    expect(await holder()).toMatchObject({ status: "active", organizationId: "org-2" });

    await other.rows("UPDATE access_tokens SET expires_at = $1 WHERE id = 't1' RETURNING id", [dialect === "sqlite" ? at(1).getTime() : at(1)]);
    expect(await lookup()).toBeUndefined();
    await rows("UPDATE access_tokens SET expires_at = $1 WHERE id = 't1' RETURNING id", [dialect === "sqlite" ? at(30).getTime() : at(30)]);
    expect((await lookup())?.expiresAt).toEqual(at(30));
    await other.rows("DELETE FROM access_tokens WHERE id = 't1' RETURNING id");
    expect(await lookup()).toBeUndefined();
  });

  it("lists a user's tokens of one kind and removes one, which stops it at once", async () => {
    const { tokens } = await tokensOfUser(dialect);
    const second = issueAccessToken();
    await tokens.add({ id: "t2", userId: "u1", kind: "personal", createdAt: at(1), expiresAt: at(90), tokenHash: second.tokenHash });
    await tokens.add({ id: "t1", userId: "u1", kind: "personal", createdAt: at(0), expiresAt: at(30), tokenHash: issueAccessToken().tokenHash });
    await tokens.add({ id: "t3", userId: "u1", kind: "login", createdAt: at(2), expiresAt: at(90), tokenHash: issueAccessToken().tokenHash });
    expect((await tokens.list("u1", "personal")).map((token) => token.id)).toEqual(["t1", "t2"]);
    expect((await tokens.list("u1", "personal"))[0]).toEqual({ id: "t1", userId: "u1", kind: "personal", createdAt: at(0), expiresAt: at(30) });

    expect(await tokens.remove("someone-else", "t2")).toBe(false);
    expect(await tokens.remove("u1", "t2")).toBe(true);
    expect(await tokens.findValid(second.tokenHash, at(3))).toBeUndefined();
    expect(await tokens.remove("u1", "t2")).toBe(false);
  });

  it("removes a user's login tokens, all or all but one, and nothing else", async () => {
    const { tokens, stores } = await tokensOfUser(dialect);
    await stores.users.append(userAdded("u2", "bob"));
    const add = async (id: string, userId: string, kind: "login" | "personal") => {
      const { tokenHash } = issueAccessToken();
      await tokens.add({ id, userId, kind, createdAt: at(0), expiresAt: at(90), tokenHash });
      return tokenHash;
    };
    const [kept, ended, personal, others] = [await add("l1", "u1", "login"), await add("l2", "u1", "login"), await add("p1", "u1", "personal"), await add("l3", "u2", "login")];
    const found = async () => Promise.all([kept, ended, personal, others].map(async (hash) => (await tokens.findValid(hash, at(1)))?.id));

    expect(await tokens.removeLogins("u1", "l1")).toBe(1);
    expect(await found()).toEqual(["l1", undefined, "p1", "l3"]);
    expect(await tokens.removeLogins("u1")).toBe(1);
    expect(await found()).toEqual([undefined, undefined, "p1", "l3"]);
    expect(await tokens.removeLogins("u1")).toBe(0);
  });
});
