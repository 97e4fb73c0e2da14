import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { hashAccessToken, issueAccessToken } from "../../src/crypto/access-token-secret.js";
import { openDatabase } from "../../src/store/open-database.js";
import { SqliteAccessTokenStore } from "../../src/store/sqlite-access-token-store.js";
import { SqliteUserStore } from "../../src/store/sqlite-user-store.js";
import { userAdded } from "./support/user-changes.js";

const directory = mkdtempSync(join(tmpdir(), "verifyd-tokens-"));
const database = openDatabase(join(directory, "verifyd.sqlite"));
afterAll(() => {
  database.close();
  rmSync(directory, { recursive: true, force: true });
});

const tokens = new SqliteAccessTokenStore(database.db);
const at = (minute: number) => new Date(Date.UTC(2026, 0, 1, 12, minute));

describe("access tokens in SQLite", () => {
  it("finds a token by its hash only, and only until it expires", async () => {
    await new SqliteUserStore(database.db).append(userAdded("u1", "ada"));
    const { token, tokenHash } = issueAccessToken();
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(tokenHash).toBe(hashAccessToken(token));
    await tokens.add({ id: "t1", userId: "u1", kind: "personal", createdAt: at(0), expiresAt: at(30), tokenHash });

    expect(await tokens.findValid(tokenHash, at(29))).toMatchObject({
      id: "t1",
      userId: "u1",
      kind: "personal",
      holder: { status: "active", organizationId: "org-1" },
    });
    expect(await tokens.findValid(tokenHash, at(30))).toBeUndefined();
    expect(await tokens.findValid(hashAccessToken(`${token}x`), at(1))).toBeUndefined();
    const row = database.sqlite.prepare("SELECT * FROM access_tokens").get() as Record<string, unknown>;
    expect(JSON.stringify(row)).not.toContain(token);
  });

  it("lists a user's tokens of one kind and removes one, which stops it at once", async () => {
    const second = issueAccessToken();
    await tokens.add({ id: "t2", userId: "u1", kind: "personal", createdAt: at(1), expiresAt: at(90), tokenHash: second.tokenHash });
    await tokens.add({ id: "t3", userId: "u1", kind: "login", createdAt: at(2), expiresAt: at(90), tokenHash: issueAccessToken().tokenHash });
    expect((await tokens.list("u1", "personal")).map((token) => token.id)).toEqual(["t1", "t2"]);

    expect(await tokens.remove("someone-else", "t2")).toBe(false);
    expect(await tokens.remove("u1", "t2")).toBe(true);
    expect(await tokens.findValid(second.tokenHash, at(3))).toBeUndefined();
    expect(await tokens.remove("u1", "t2")).toBe(false);
  });
});
