// DeleteUser as callers see it: the removal's details, then the user gone from every call, and nothing of the person
// left in the database: events, row, tokens, roles and undelivered messages. The id, username and verified contacts
// are free again afterwards, as in ZITADEL; the security log records who deleted whom.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { api, failure, fixtures, passwordLogin, rest, unique, uniqueMobile } from "../helpers/api-session.js";
import { openLiveDatabase } from "../helpers/live-database.js";
import { allProtocols, expectFailure, expectOk, protocolClient } from "../helpers/protocol-clients.js";
import { type TestServer, startTestServer } from "../helpers/test-server.js";
import { startWebhookReceiver } from "../helpers/webhook-receiver.js";

let server: TestServer;
let setup: ReturnType<typeof fixtures>;
let organization: string;

beforeAll(async () => {
  // Messages wait in the outbox until a test delivers them, so that a deletion meets them undelivered.
  server = await startTestServer([], { deliverOnRunOnceOnly: true });
  setup = fixtures(server.url, server.adminToken);
  organization = await setup.organization();
});
afterAll(async () => {
  await server?.close();
});

/** A person with a password, a verified email address and a phone number whose code waits in the outbox. */
async function person(options: { userId?: string; username?: string; phone?: string; phoneVerified?: boolean } = {}) {
  const username = options.username ?? unique("person");
  const password = `Pw-${unique("secret")}`;
  const phone = options.phone ?? uniqueMobile();
  const { userId } = await setup.admin.users.addHumanUser({
    ...(options.userId ? { userId: options.userId } : {}),
    username,
    organization: { org: { case: "orgId", value: organization } },
    profile: { givenName: "Ada", familyName: "Lovelace" },
    email: { email: `${username}@example.com`, verification: { case: "isVerified", value: true } },
    phone: { phone, verification: options.phoneVerified ? { case: "isVerified", value: true } : { case: "sendCode", value: {} } },
    passwordType: { case: "password", value: { password } },
  });
  return { userId, username, password, phone };
}

/** The rows that name the user, table by table, read from the server's SQLite file. */
function rowsNaming(userId: string): Record<string, number> {
  const sqlite = openLiveDatabase(join(server.dataDir, "verifyd.sqlite"), { readonly: true });
  try {
    const count = (table: string, column: string) =>
      (sqlite.prepare(`SELECT count(*) AS n FROM ${table} WHERE ${column} = ?`).get(userId) as { n: number }).n;
    return {
      events: count("events", "aggregate_id"),
      users: count("users", "id"),
      outbox: count("outbox", "user_id"),
      access_tokens: count("access_tokens", "user_id"),
      members: count("members", "user_id"),
    };
  } finally {
    sqlite.close();
  }
}

describe("DeleteUser", () => {
  it.each(allProtocols)("over %s: answers the removal's details, then the user is NotFound, also to a second delete", async (protocol) => {
    const { userId } = await person();
    const client = protocolClient(protocol, server.url, server.adminToken);
    const before = (await setup.admin.users.getUserByID({ userId })).details;

    const deleted = expectOk(await client.call("deleteUser", { userId }));

    expect(deleted.details).toMatchObject({ sequence: String(Number(before?.sequence) + 1), resourceOwner: organization });
    expect(Date.parse((deleted.details as { changeDate: string }).changeDate)).not.toBeNaN();
    const gone = expectFailure(await client.call("getUserByID", { userId }));
    expect(gone).toMatchObject({ code: 5, errorInfo: { reason: "USER_NOT_FOUND" } });
    if (protocol === "rest") expect(gone.httpStatus).toBe(404);
    expect(expectFailure(await client.call("deleteUser", { userId }))).toMatchObject({ code: 5, errorInfo: { reason: "USER_NOT_FOUND" } });
    expect(expectFailure(await client.call("verifyPhone", { userId, verificationCode: "123456" }))).toMatchObject({ code: 5 });
    const listed = expectOk(await client.call("listUsers", { queries: [{ inUserIdsQuery: { userIds: [userId] } }] }));
    expect(listed.result ?? []).toEqual([]);
  });

  it("erases the person: events, row, login tokens, roles and the code waiting for delivery, which is never sent", async () => {
    const { userId, username, password, phone } = await person();
    await setup.admin.admins.createAdministrator({
      userId,
      resource: { resource: { case: "organizationId", value: organization } },
      roles: ["ORG_USER_VIEWER"],
    });
    const login = await passwordLogin(server.url, username, password);
    const token = login.body.access_token ?? "";
    expect((await rest(server.url, token, "GET", `/v2/users/${userId}`)).status).toBe(200);
    expect(rowsNaming(userId)).toMatchObject({ users: 1, outbox: 1, access_tokens: 1, members: 1 });

    expect((await rest(server.url, server.adminToken, "DELETE", `/v2/users/${userId}`)).status).toBe(200);

    expect(rowsNaming(userId)).toEqual({ events: 0, users: 0, outbox: 0, access_tokens: 0, members: 0 });
    expect((await rest(server.url, token, "GET", `/v2/users/${userId}`)).status).toBe(401);
    expect(await passwordLogin(server.url, username, password)).toMatchObject({ status: 400, body: { error: "invalid_grant" } });
    const { administrators } = await setup.admin.admins.listAdministrators({});
    expect(administrators.map((admin) => admin.user?.id)).not.toContain(userId);
    await server.outbox.runOnce();
    expect(server.delivered.filter((message) => message.destination === phone)).toEqual([]);
  });

  it("leaves neither the usernames nor the phone numbers readable in the database file once the log is checkpointed", async () => {
    // Thirty people, so that deleting them frees whole pages as well as parts of pages. No code sent: the limits keep
    // counting sends to a number for their window, under the number.
    const people: Awaited<ReturnType<typeof person>>[] = [];
    for (let index = 0; index < 30; index++) people.push(await person({ phoneVerified: true }));
    const file = join(server.dataDir, "verifyd.sqlite");
    const checkpointedFile = () => {
      const sqlite = openLiveDatabase(file);
      try {
        sqlite.pragma("wal_checkpoint(TRUNCATE)");
      } finally {
        sqlite.close();
      }
      return readFileSync(file);
    };
    const readable = (bytes: Buffer) => people.filter(({ username, phone }) => bytes.includes(username) || bytes.includes(phone));
    expect(readable(checkpointedFile())).toHaveLength(people.length);

    for (const { userId } of people) await setup.admin.users.deleteUser({ userId });

    expect(readable(checkpointedFile()).map(({ username }) => username)).toEqual([]);
  });

  it("frees the id, the username and the verified phone: a new person may take them and starts afresh", async () => {
    const phone = uniqueMobile();
    const first = await person({ userId: unique("reused"), phone, phoneVerified: true });
    await setup.admin.users.deleteUser({ userId: first.userId });

    await person({ userId: first.userId, username: first.username, phone, phoneVerified: true });

    const { user, details } = await setup.admin.users.getUserByID({ userId: first.userId });
    expect(user?.username).toBe(first.username);
    expect(user?.type.case === "human" && user.type.value.phone?.isVerified).toBe(true);
    // A fresh stream: the added user, its password, its verified email and phone.
    expect(Number(details?.sequence)).toBe(4);
  });

  it("records who deleted whom in the security log, and keeps the log's earlier entries about the user", async () => {
    const { userId, username } = await person();
    await passwordLogin(server.url, username, "wrong password");
    const manager = await setup.member(organization, ["ORG_USER_MANAGER"]);

    await api(server.url, manager.token, "grpc").users.deleteUser({ userId });

    const log = expectOk(
      await protocolClient("connect-json", server.url, server.adminToken).callService("SecurityLogService", "listSecurityEvents", { userId }),
    );
    const kinds = (log.result as { kind: string; actorId?: string }[]).map(({ kind, actorId }) => ({ kind, actorId }));
    expect(kinds).toEqual([{ kind: "user.removed", actorId: manager.userId }, { kind: "login.failed" }]);
  });
});

describe("who may delete", () => {
  it("the user themself, with a login token; a viewer is refused, a stranger is told the user does not exist", async () => {
    const { userId, username, password } = await person();
    const viewer = await setup.member(organization, ["ORG_USER_VIEWER"]);
    const stranger = await setup.member(await setup.organization(), ["ORG_OWNER"]);

    expect(await failure(api(server.url, viewer.token, "grpc").users.deleteUser({ userId }))).toMatchObject({ code: 7 });
    expect(await failure(api(server.url, stranger.token, "grpc").users.deleteUser({ userId }))).toMatchObject({
      code: 5,
      reason: "USER_NOT_FOUND",
    });
    const token = (await passwordLogin(server.url, username, password)).body.access_token ?? "";
    expect((await rest(server.url, token, "DELETE", `/v2/users/${userId}`)).status).toBe(200);
    expect((await rest(server.url, server.adminToken, "GET", `/v2/users/${userId}`)).status).toBe(404);
  });

  it("not a manager deleting an owner, whose roles it could not grant; nobody the last IAM_OWNER", async () => {
    const owner = await setup.member(organization, ["ORG_OWNER"]);
    const manager = await setup.member(organization, ["ORG_USER_MANAGER"]);
    expect(await failure(api(server.url, manager.token, "grpc").users.deleteUser({ userId: owner.userId }))).toMatchObject({ code: 7 });
    expect((await setup.admin.users.getUserByID({ userId: owner.userId })).user?.userId).toBe(owner.userId);

    const [bootstrapOwner] = (await setup.admin.admins.listAdministrators({})).administrators.filter((admin) =>
      admin.roles.includes("IAM_OWNER"),
    );
    const adminId = bootstrapOwner?.user?.id ?? "";
    expect(await failure(setup.admin.users.deleteUser({ userId: adminId }))).toMatchObject({ code: 9, reason: "LAST_INSTANCE_OWNER" });
    expect((await rest(server.url, server.adminToken, "GET", `/v2/users/${adminId}`)).status).toBe(200);
  });
});

it("meets calls on the same user in flight without a server error: each is answered as before or after the deletion", async () => {
  const { userId } = await person();
  const client = protocolClient("grpc", server.url, server.adminToken);
  const calls = [
    ...Array.from({ length: 10 }, () => client.call("verifyPhone", { userId, verificationCode: "000000" })),
    client.call("deleteUser", { userId }),
    ...Array.from({ length: 10 }, () => client.call("resendPhoneCode", { userId, returnCode: {} })),
  ];
  const answers = await Promise.all(calls);
  const codes = answers.map((answer) => (answer.ok ? "ok" : answer.code));
  expect(codes[10]).toBe("ok");
  // 3: a wrong code; 5: the user is gone; 8: the attempts ran out before it went. Never 13 (Internal) or 14.
  expect(codes.filter((code) => ![3, 5, 8, "ok"].includes(code))).toEqual([]);
  expect(rowsNaming(userId)).toEqual({ events: 0, users: 0, outbox: 0, access_tokens: 0, members: 0 });
});

it("meets a login, a token or a role being made for a user while it is deleted: refused as for a user that is gone, never a server error", async () => {
  for (let round = 0; round < 8; round += 1) {
    const { userId, username, password } = await person();
    const service = await setup.machine(organization);
    // Sent together, one user at a time as a person deleting their account in one tab and logging in in another: the
    // login checks the password (argon2id, milliseconds) before it writes its token, and the deletion lands in between.
    const [login, role, deleted, token, serviceDeleted] = await Promise.all([
      passwordLogin(server.url, username, password),
      rest(server.url, server.adminToken, "POST", "/v2beta/administrators", {
        userId,
        resource: { organizationId: organization },
        roles: ["ORG_USER_VIEWER"],
      }),
      rest(server.url, server.adminToken, "DELETE", `/v2/users/${userId}`),
      rest(server.url, server.adminToken, "POST", "/zitadel.user.v2.UserService/AddPersonalAccessToken", { userId: service.userId }),
      rest(server.url, server.adminToken, "DELETE", `/v2/users/${service.userId}`),
    ]);
    expect([deleted.status, serviceDeleted.status]).toEqual([200, 200]);
    // 200: made before the deletion, which took it along; otherwise as for a user that does not exist.
    if (login.status !== 200) expect(login).toMatchObject({ status: 400, body: { error: "invalid_grant" } });
    for (const answer of [token, role]) expect([200, 404], JSON.stringify(answer)).toContain(answer.status);
    for (const gone of [userId, service.userId]) {
      expect(rowsNaming(gone)).toEqual({ events: 0, users: 0, outbox: 0, access_tokens: 0, members: 0 });
    }
  }
});

it("settles a message whose delivery was under way when its user was deleted, without bringing anything of the user back", async () => {
  const receiver = await startWebhookReceiver();
  const delivering = await startTestServer(
    ["--sms-webhook-url", `${receiver.url}/sms`, "--webhook-secret", receiver.secret],
    { configuredDelivery: true, deliverOnRunOnceOnly: true },
  );
  try {
    const { userId } = await api(delivering.url, delivering.adminToken).users.addHumanUser({
      profile: { givenName: "Ada", familyName: "Lovelace" },
      phone: { phone: uniqueMobile(), verification: { case: "sendCode", value: {} } },
    });
    receiver.answers.push({ afterMs: 500 });
    const delivery = delivering.outbox.runOnce();
    await receiver.waitForRequests(1);

    await api(delivering.url, delivering.adminToken).users.deleteUser({ userId });
    await delivery;

    const sqlite = openLiveDatabase(join(delivering.dataDir, "verifyd.sqlite"), { readonly: true });
    try {
      const remaining = sqlite.prepare("SELECT (SELECT count(*) FROM events WHERE aggregate_id = ?) + (SELECT count(*) FROM outbox WHERE user_id = ?) AS n");
      expect(remaining.get(userId, userId)).toEqual({ n: 0 });
    } finally {
      sqlite.close();
    }
    expect((await rest(delivering.url, delivering.adminToken, "GET", "/readyz")).status).toBe(200);
  } finally {
    await delivering.close();
    await receiver.close();
  }
});
