// ApplicationService as an organization's owner meets it, on every protocol: Kii applications created with a key
// answered once and stored only as its SHA-256, listed per organization without keys, deleted; hidden from
// non-members exactly as a missing one, refused to members without app.write / app.read; and recorded in the
// security log.
import { createHash } from "node:crypto";
import { join } from "node:path";
import type { JsonObject } from "@bufbuild/protobuf";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fixtures, unique } from "../helpers/api-session.js";
import {
  type CallFailure,
  type CallResult,
  type ProtocolName,
  allProtocols,
  expectFailure,
  expectOk,
  protocolClient,
} from "../helpers/protocol-clients.js";
import { type TestServer, startTestServer } from "../helpers/test-server.js";
import { openLiveDatabase } from "../helpers/live-database.js";

let server: TestServer;
let setup: ReturnType<typeof fixtures>;

beforeAll(async () => {
  server = await startTestServer();
  setup = fixtures(server.url, server.adminToken);
});
afterAll(async () => {
  await server?.close();
});

function applicationsOf(token: string, protocol: ProtocolName) {
  const client = protocolClient(protocol, server.url, token);
  return {
    create: (organizationId: string, name: string): Promise<CallResult> =>
      client.callService("ApplicationService", "createApplication", { organizationId, name }),
    list: (organizationId: string): Promise<CallResult> => client.callService("ApplicationService", "listApplications", { organizationId }),
    delete: (appId: string): Promise<CallResult> => client.callService("ApplicationService", "deleteApplication", { appId }),
  };
}

/** An organization with an ORG_OWNER and an ORG_USER_MANAGER, each with a token. */
async function organizationWithOwner() {
  const organizationId = await setup.organization(unique("apps"));
  const owner = await setup.member(organizationId, ["ORG_OWNER"]);
  const manager = await setup.member(organizationId, ["ORG_USER_MANAGER"]);
  return { organizationId, owner, manager };
}

interface Created {
  application: { appId: string; organizationId: string; name: string; creationDate: string };
  appKey: string;
}

async function created(result: Promise<CallResult>): Promise<Created> {
  return expectOk(await result) as unknown as Created;
}

/** Everything a failure shows its caller, for comparing two refusals. */
function shown({ code, message, errorDetail, errorInfo, fieldViolations, httpStatus }: CallFailure) {
  return { code, message, errorDetail, errorInfo, fieldViolations, httpStatus };
}

function storedApplications(): Record<string, unknown>[] {
  const sqlite = openLiveDatabase(join(server.dataDir, "verifyd.sqlite"), { readonly: true });
  try {
    return sqlite.prepare("SELECT * FROM applications").all() as Record<string, unknown>[];
  } finally {
    sqlite.close();
  }
}

const sha256 = (text: string) => createHash("sha256").update(text, "utf8").digest("hex");

describe.each(allProtocols)("over %s", (protocol) => {
  it("creates an application with a Kii-style id and a key answered once, stored only as its SHA-256", async () => {
    const { organizationId, owner } = await organizationWithOwner();
    const apps = applicationsOf(owner.token, protocol);
    const { application, appKey } = await created(apps.create(organizationId, "Kii app"));
    expect(application).toEqual({
      appId: expect.stringMatching(/^[0-9a-f]{8}$/),
      organizationId,
      name: "Kii app",
      creationDate: expect.any(String),
    });
    expect(Date.parse(application.creationDate)).toBe(server.clock.now().getTime());
    expect(appKey).toMatch(/^[A-Za-z0-9_-]{43}$/);

    const stored = storedApplications();
    expect(JSON.stringify(stored)).not.toContain(appKey);
    expect(stored.find((row) => row.id === application.appId)?.key_hash).toBe(sha256(appKey));

    const later = [expectOk(await apps.list(organizationId)), expectOk(await apps.delete(application.appId))];
    for (const answer of later) expect(JSON.stringify(answer)).not.toContain(appKey);
  });

  it("lists the organization's applications oldest first, without keys, and none of another organization", async () => {
    const { organizationId, owner } = await organizationWithOwner();
    const other = await organizationWithOwner();
    const apps = applicationsOf(owner.token, protocol);
    const first = await created(apps.create(organizationId, "First"));
    server.clock.advance(1_000);
    const second = await created(apps.create(organizationId, "Second"));
    await created(applicationsOf(other.owner.token, protocol).create(other.organizationId, "Elsewhere"));

    expect(expectOk(await apps.list(organizationId))).toEqual({ result: [first.application, second.application] });
    const { organizationId: emptyOrganization, owner: emptyOwner } = await organizationWithOwner();
    expect(expectOk(await applicationsOf(emptyOwner.token, protocol).list(emptyOrganization))).toEqual({});
  });

  it("deletes an application: it leaves the list, and deleting it again is NotFound", async () => {
    const { organizationId, owner } = await organizationWithOwner();
    const apps = applicationsOf(owner.token, protocol);
    const kept = await created(apps.create(organizationId, "Kept"));
    const removed = await created(apps.create(organizationId, "Removed"));

    expect(expectOk(await apps.delete(removed.application.appId))).toEqual({});
    expect(expectOk(await apps.list(organizationId))).toEqual({ result: [kept.application] });
    const again = expectFailure(await apps.delete(removed.application.appId));
    expect(again).toMatchObject({ code: 5, errorInfo: { reason: "APPLICATION_NOT_FOUND" } });
    if (protocol === "rest") expect(again.httpStatus).toBe(404);
  });

  it("hides an organization's applications from the owner of another one, exactly as missing ones", async () => {
    const { organizationId, owner } = await organizationWithOwner();
    const stranger = applicationsOf((await organizationWithOwner()).owner.token, protocol);
    const { application } = await created(applicationsOf(owner.token, protocol).create(organizationId, "Private"));

    const unknownOrganization = "913491089656786039";
    const refusedCreate = expectFailure(await stranger.create(organizationId, "Intruder"));
    expect(refusedCreate).toMatchObject({ code: 5, errorInfo: { reason: "ORGANIZATION_NOT_FOUND" } });
    expect(shown(refusedCreate)).toEqual(shown(expectFailure(await stranger.create(unknownOrganization, "Intruder"))));
    const refusedList = expectFailure(await stranger.list(organizationId));
    expect(shown(refusedList)).toEqual(shown(expectFailure(await stranger.list(unknownOrganization))));

    const refusedDelete = expectFailure(await stranger.delete(application.appId));
    expect(refusedDelete).toMatchObject({ code: 5, errorInfo: { reason: "APPLICATION_NOT_FOUND" } });
    expect(shown(refusedDelete)).toEqual(shown(expectFailure(await stranger.delete("0123abcd"))));

    expect(expectOk(await applicationsOf(owner.token, protocol).list(organizationId))).toEqual({ result: [application] });
  });

  it("refuses an ORG_USER_MANAGER of the organization with PermissionDenied", async () => {
    const { organizationId, owner, manager } = await organizationWithOwner();
    const { application } = await created(applicationsOf(owner.token, protocol).create(organizationId, "Owned"));
    const apps = applicationsOf(manager.token, protocol);
    const refusals: [CallResult, string][] = [
      [await apps.create(organizationId, "Managed"), "app.write"],
      [await apps.list(organizationId), "app.read"],
      [await apps.delete(application.appId), "app.write"],
    ];
    for (const [result, permission] of refusals) {
      const refused = expectFailure(result);
      expect(refused).toMatchObject({ code: 7, errorInfo: { reason: "PERMISSION_DENIED", metadata: { permission } } });
      if (protocol === "rest") expect(refused.httpStatus).toBe(403);
    }
    expect(expectOk(await applicationsOf(owner.token, protocol).list(organizationId))).toEqual({ result: [application] });
  });

  it("refuses an empty or overlong name, naming the field", async () => {
    const { organizationId, owner } = await organizationWithOwner();
    const apps = applicationsOf(owner.token, protocol);
    for (const [name, reason] of [
      ["", "string.min_len"],
      ["x".repeat(201), "string.max_len"],
    ] as const) {
      const refused = expectFailure(await apps.create(organizationId, name));
      expect(refused.code).toBe(3);
      if (protocol === "rest") expect(refused.httpStatus).toBe(400);
      expect(refused.fieldViolations?.map((violation) => [violation.field, violation.reason])).toEqual([["name", reason]]);
    }
    expect(expectOk(await apps.list(organizationId))).toEqual({});
  });

  it("tells an IAM_OWNER that an organization that does not exist has no applications to create or list", async () => {
    const apps = applicationsOf(server.adminToken, protocol);
    for (const result of [await apps.create("404404404", "Nowhere"), await apps.list("404404404")]) {
      expect(expectFailure(result)).toMatchObject({ code: 5, errorInfo: { reason: "ORGANIZATION_NOT_FOUND" } });
    }
  });
});

describe("the security log", () => {
  it("records who created and removed which application, never its key", async () => {
    const { organizationId, owner } = await organizationWithOwner();
    const apps = applicationsOf(owner.token, "rest");
    const { application, appKey } = await created(apps.create(organizationId, "Logged"));
    expectOk(await apps.delete(application.appId));

    const admin = protocolClient("connect-json", server.url, server.adminToken);
    const body = expectOk(
      await admin.callService("SecurityLogService", "listSecurityEvents", { kinds: ["application.created", "application.removed"] }),
    );
    const events = ((body.result ?? []) as JsonObject[]).filter((event) => (event.detail as JsonObject).appId === application.appId);
    const entry = { actorId: owner.userId, organizationId, detail: { appId: application.appId, organizationId } };
    expect(events).toEqual([
      expect.objectContaining({ kind: "application.removed", ...entry }),
      expect.objectContaining({ kind: "application.created", ...entry }),
    ]);
    expect(JSON.stringify(body)).not.toContain(appKey);
  });
});
