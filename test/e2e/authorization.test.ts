// Who may do what to a user, on every protocol: the user itself, the roles of its organization, and strangers,
// whose answers must not tell an existing user from a missing one.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { errors } from "../../src/domain/errors.js";
import { type Caller, type CallerFactory, callerFactory } from "../helpers/callers.js";
import { allProtocols, expectFailure, expectOk, protocolClient } from "../helpers/protocol-clients.js";
import { type TestServer, startTestServer } from "../helpers/test-server.js";

let server: TestServer;
let callers: CallerFactory;
let organization: string;
let viewer: Caller;
let manager: Caller;
let stranger: Caller;
beforeAll(async () => {
  server = await startTestServer();
  callers = callerFactory(server);
  organization = await callers.addOrganization();
  const other = await callers.addOrganization();
  viewer = await callers.addCaller({ roles: { [organization]: ["ORG_USER_VIEWER"] } });
  manager = await callers.addCaller({ roles: { [organization]: ["ORG_USER_MANAGER"] } });
  stranger = await callers.addCaller({ organizationId: other, roles: { [other]: ["ORG_OWNER"] } });
});
afterAll(async () => {
  callers?.close();
  await server?.close();
});

const permissionDenied = (permission: string) => {
  const error = errors.permissionDenied(permission);
  return {
    ok: false,
    code: 7,
    message: error.message,
    errorInfo: { reason: "PERMISSION_DENIED", metadata: { permission } },
    // ZITADEL's id and words for a member lacking the permission, so that its clients recognise the answer.
    errorDetail: { id: "AUTH-AWfge", message: "No matching permissions found" },
  };
};

describe.each(allProtocols)("over %s", (protocol) => {
  const as = (caller: { token: string }, headers?: Record<string, string>) => protocolClient(protocol, server.url, caller.token, headers);
  let unique = 0;
  const mobile = () => `+4179${String(5_000_000 + unique++ + allProtocols.indexOf(protocol) * 1000).slice(-7)}`;
  /** A person in the organization, as a caller with its own (login) token. */
  const target = () => callers.addCaller({ organizationId: organization, kind: "person" });

  it("answers a stranger exactly as it answers a user id that does not exist", async () => {
    const user = await target();
    const admin = { token: server.adminToken };
    for (const [method, request] of [
      ["getUserByID", {}],
      ["setPhone", { phone: mobile() }],
      ["verifyPhone", { verificationCode: "123456" }],
      ["removePhone", {}],
    ] as const) {
      const hidden = expectFailure(await as(stranger).call(method, { userId: user.userId, ...request }));
      const missing = expectFailure(await as(admin).call(method, { userId: "404404404", ...request }));
      expect(hidden).toEqual(missing);
      expect(hidden.code).toBe(5);
    }
  });

  it("lets a viewer read but not change, and a manager do both", async () => {
    const user = await target();
    expectOk(await as(viewer).call("getUserByID", { userId: user.userId }));
    expect(await as(viewer).call("setPhone", { userId: user.userId, phone: mobile() })).toMatchObject(permissionDenied("user.write"));
    expectOk(await as(manager).call("setPhone", { userId: user.userId, phone: mobile(), returnCode: {} }));
  });

  it("lets the user set, verify and remove its own phone with a sent code, but not return or preset one", async () => {
    const user = await target();
    const self = as(user);
    expectOk(await self.call("getUserByID", { userId: user.userId }));
    expect(await self.call("setPhone", { userId: user.userId, phone: mobile(), returnCode: {} })).toMatchObject(
      permissionDenied("user.write"),
    );
    expect(await self.call("setPhone", { userId: user.userId, phone: mobile(), isVerified: true })).toMatchObject(
      permissionDenied("user.write"),
    );
    expectOk(await self.call("setPhone", { userId: user.userId, phone: mobile(), sendCode: {} }));
    expect(await self.call("resendPhoneCode", { userId: user.userId, returnCode: {} })).toMatchObject(permissionDenied("user.write"));
    // Not a test of the send limits: let the cooldown after the first sent code pass.
    server.clock.advance(server.config.verificationLimits.sendCooldownMs);
    expectOk(await self.call("resendPhoneCode", { userId: user.userId }));
    const code = expectOk(await as(manager).call("resendPhoneCode", { userId: user.userId, returnCode: {} })).verificationCode;
    expectOk(await self.call("verifyPhone", { userId: user.userId, verificationCode: code as string }));
    expectOk(await self.call("removePhone", { userId: user.userId }));
    expect(await self.call("getUserByID", { userId: viewer.userId })).toMatchObject({ ok: false, code: 5 });
  });

  it("adds users only where the caller has user.write, and hides other organizations", async () => {
    const request = { organization: { orgId: organization }, profile: { givenName: "A", familyName: "B" }, phone: { phone: mobile() } };
    const notFound = errors.organizationNotFound();
    expect(await as(stranger).call("addHumanUser", request)).toMatchObject({ ok: false, code: 5, message: notFound.message });
    expect(await as(viewer).call("addHumanUser", request)).toMatchObject(permissionDenied("user.write"));
    expectOk(await as(manager).call("addHumanUser", request));
  });

  it("adds a user to the organization x-zitadel-orgid names, else to the caller's own, when the request names none", async () => {
    const organizationOf = async (added: { userId?: unknown }) =>
      expectOk(await as({ token: server.adminToken }).call("getUserByID", { userId: added.userId as string })).details;
    const request = () => ({ profile: { givenName: "A", familyName: "B" }, phone: { phone: mobile() } });
    const insider = await callers.addCaller({ organizationId: organization, roles: { [organization]: ["ORG_USER_MANAGER"] } });
    expect(await organizationOf(expectOk(await as(insider).call("addHumanUser", request())))).toMatchObject({ resourceOwner: organization });

    // The manager belongs to the default organization and holds its role in the other one.
    const named = expectOk(await as(manager, { "x-zitadel-orgid": organization }).call("addHumanUser", request()));
    expect(await organizationOf(named)).toMatchObject({ resourceOwner: organization });
    expect(await as(manager).call("addHumanUser", request())).toMatchObject({ ok: false, code: 5 });
    expect(await as(insider, { "x-zitadel-orgid": stranger.organizationId }).call("addHumanUser", request())).toMatchObject({ ok: false, code: 5 });
  });
});
