// An answer that cannot be written as JSON (proto3 JSON has no Timestamp past 9999-12-31T23:59:59Z) is a fault of
// ours like any other: Internal, its message naming the request id, an error line with that id, and an access line
// that says internal, not ok. Such a value can no longer be stored through the API, so the test writes one into the
// SQLite file behind the server's back, as an older version or another program might have.
import { join } from "node:path";
import { expect, it } from "vitest";
import { fixtures } from "../helpers/api-session.js";
import { openLiveDatabase } from "../helpers/live-database.js";
import { type ServerProcess, serverProcessDirectories, startServerProcess } from "../helpers/server-process.js";

const newDataDir = serverProcessDirectories("verifyd-unencodable-");
/** Milliseconds of a date in year 255,000: a Date holds it, proto3 JSON does not. */
const farFuture = 8_000_000_000_000_000;

let server: ServerProcess;
let databasePath: string;

function overwrite(sql: string, ...parameters: unknown[]): void {
  const database = openLiveDatabase(databasePath);
  try {
    database.prepare(sql).run(...parameters);
  } finally {
    database.close();
  }
}

async function post(path: string, body: unknown, requestId: string): Promise<{ status: number; body: unknown }> {
  const answer = await fetch(`${server.url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${server.adminToken}`, "x-request-id": requestId },
    body: JSON.stringify(body),
  });
  return { status: answer.status, body: await answer.json() };
}

/** The log lines (on stderr) of one request, once its access line, the last, is there. */
async function linesOf(requestId: string): Promise<Record<string, unknown>[]> {
  const lines = () =>
    server.stderr
      .filter((line) => line.startsWith("{"))
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .filter((line) => line.requestId === requestId);
  await expect.poll(() => lines().some((line) => line.message === "call")).toBe(true);
  return lines();
}

/** A server whose first service account's token and first organization's creation are dated in year 255,000. */
async function serverWithUnencodableDates(): Promise<{ userId: string; organizationId: string }> {
  databasePath = join(newDataDir(), "verifyd.sqlite");
  server = await startServerProcess(databasePath);
  const setup = fixtures(server.url, server.adminToken);
  const organizationId = await setup.organization();
  const { userId, tokenId } = await setup.machine(organizationId);
  overwrite("UPDATE access_tokens SET expires_at = ? WHERE id = ?", farFuture, tokenId);
  overwrite("UPDATE security_events SET at = ? WHERE kind = 'organization.created' AND organization_id = ?", farFuture, organizationId);
  return { userId, organizationId };
}

async function expectLoggedAsInternal(requestId: string): Promise<void> {
  const lines = await linesOf(requestId);
  expect(lines.filter((line) => line.level === "error")).toHaveLength(1);
  expect(lines.find((line) => line.message === "call")).toMatchObject({ code: "internal", status: 500 });
}

it("over Connect with JSON (ListPersonalAccessTokens)", async () => {
  const { userId } = await serverWithUnencodableDates();
  const answer = await post("/zitadel.user.v2.UserService/ListPersonalAccessTokens", { filters: [{ userIdFilter: { id: userId } }] }, "unencodable-connect");
  expect(answer).toEqual({ status: 500, body: { code: "internal", message: "Internal error; request id unencodable-connect" } });
  await expectLoggedAsInternal("unencodable-connect");
});

it("over REST (ListSecurityEvents)", async () => {
  const { organizationId } = await serverWithUnencodableDates();
  const answer = await post("/verifyd/v1/security_events/_search", { organizationId }, "unencodable-rest");
  expect(answer).toMatchObject({ status: 500, body: { code: 13, message: "Internal error; request id unencodable-rest" } });
  await expectLoggedAsInternal("unencodable-rest");
});
