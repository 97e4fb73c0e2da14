// The first start creates one IAM_OWNER service account and writes its token to the admin token file, owner-only;
// later starts, and starts racing the first, create nothing more. The token never shows in the output.
import { rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { expectOk, protocolClient } from "../helpers/protocol-clients.js";
import { serverProcessDirectories, startServerProcess } from "../helpers/server-process.js";
import { openLiveDatabase } from "../helpers/live-database.js";

const newDirectory = serverProcessDirectories("verifyd-bootstrap-");

function countRows(database: string) {
  const sqlite = openLiveDatabase(database, { readonly: true });
  try {
    const count = (sql: string) => (sqlite.prepare(sql).get() as { n: number }).n;
    return {
      admins: count("SELECT count(*) AS n FROM users WHERE username = 'admin' AND kind = 'machine'"),
      members: count("SELECT count(*) AS n FROM members"),
      tokens: count("SELECT count(*) AS n FROM access_tokens"),
      instance: count("SELECT count(*) AS n FROM instance"),
    };
  } finally {
    sqlite.close();
  }
}

const one = { admins: 1, members: 1, tokens: 1, instance: 1 };
/** The answer to an accepted token asking for a user that does not exist. */
const notFound = { ok: false, code: 5 };

describe("bootstrap", () => {
  it("writes a working token to an owner-only file on first start, and never prints it", async () => {
    const database = join(newDirectory(), "verifyd.sqlite");
    const server = await startServerProcess(database);
    expect(statSync(server.adminTokenFile).mode & 0o777).toBe(0o600);
    expect(server.adminToken).toMatch(/^[\w-]{43}$/);
    const added = expectOk(
      await protocolClient("grpc", server.url, server.adminToken).call("addHumanUser", {
        profile: { givenName: "Ada", familyName: "Lovelace" },
        email: { email: "ada@bootstrap.example.com", isVerified: true },
      }),
    );
    expect(added.userId).toBeTruthy();
    await server.stop();
    const output = [...server.stdout, ...server.stderr].join("\n");
    expect(output).not.toContain(server.adminToken);
    expect(server.stderr.filter((line) => line.includes("instance bootstrapped"))).toEqual([
      expect.stringContaining(server.adminTokenFile),
    ]);
    expect(countRows(database)).toEqual(one);
  });

  it("creates nothing on a second start and leaves the file as it was", async () => {
    const database = join(newDirectory(), "verifyd.sqlite");
    const first = await startServerProcess(database);
    await first.stop();
    const written = statSync(first.adminTokenFile);
    const second = await startServerProcess(database);
    expect(second.adminToken).toBe(first.adminToken);
    expect(statSync(second.adminTokenFile).mtimeMs).toBe(written.mtimeMs);
    expect(second.stderr.some((line) => line.includes("instance already bootstrapped"))).toBe(true);
    expect(second.stderr.some((line) => line.includes("no admin token file here"))).toBe(false);
    expect(await protocolClient("rest", second.url, second.adminToken).call("getUserByID", { userId: "1" })).toMatchObject(notFound);
    await second.stop();
    expect(countRows(database)).toEqual(one);
    expect([...second.stdout, ...second.stderr].join("\n")).not.toContain(second.adminToken);
  });

  it("says where no token file is, on a database bootstrapped elsewhere, how to make a token instead", async () => {
    const database = join(newDirectory(), "verifyd.sqlite");
    const first = await startServerProcess(database);
    await first.stop();
    rmSync(first.adminTokenFile);
    const elsewhere = await startServerProcess(database, { withoutAdminToken: true });
    await elsewhere.stop();
    const line = elsewhere.stderr.find((text) => text.includes("instance already bootstrapped"));
    expect(JSON.parse(line ?? "{}")).toMatchObject({
      message: "instance already bootstrapped; no admin token file here: make a token with `verifyd admin token`",
      expectedFile: first.adminTokenFile,
    });
  });

  it("leaves exactly one administrator, membership and token when two processes start at once", async () => {
    const database = join(newDirectory(), "verifyd.sqlite");
    const [a, b] = await Promise.all([startServerProcess(database), startServerProcess(database)]);
    expect(a.adminToken).toBe(b.adminToken);
    for (const server of [a, b]) {
      expect(await protocolClient("connect-json", server.url, server.adminToken).call("getUserByID", { userId: "1" })).toMatchObject(notFound);
    }
    await Promise.all([a.stop(), b.stop()]);
    expect(countRows(database)).toEqual(one);
  }, 60_000);
});
