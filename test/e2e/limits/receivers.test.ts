// Who may receive messages: a verified phone number or address belongs to one user per organization; an
// organization may allow or deny SMS by country calling code; test contacts get their fixed code and no message.
// On every protocol.
import type { JsonObject } from "@bufbuild/protobuf";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fixtures, uniqueMobile } from "../../helpers/api-session.js";
import { type EventReader, openEventReader } from "../../helpers/events.js";
import { expectLimitReached } from "../../helpers/limits.js";
import { type ProtocolClient, allProtocols, expectFailure, expectOk, protocolClient } from "../../helpers/protocol-clients.js";
import { type TestServer, startTestServer } from "../../helpers/test-server.js";

const profile = { givenName: "Ada", familyName: "Lovelace" };

let server: TestServer;
let reader: EventReader;
let setup: ReturnType<typeof fixtures>;
beforeAll(async () => {
  server = await startTestServer();
  reader = openEventReader(server.config.database);
  setup = fixtures(server.url, server.adminToken);
});
afterAll(async () => {
  reader.close();
  await server.close();
});

async function pendingUser(client: ProtocolClient, orgId: string, contact: JsonObject) {
  const added = expectOk(await client.call("addHumanUser", { profile, organization: { orgId }, ...contact }));
  return { userId: added.userId as string, code: (added.phoneCode ?? added.emailCode) as string };
}

describe("a verified phone number or address belongs to one user per organization", () => {
  it.each(allProtocols)("phone over %s: the second user's right code is spent, AlreadyExists PHONE_ALREADY_IN_USE", async (protocol) => {
    const client = protocolClient(protocol, server.url, server.adminToken);
    const organizationId = await setup.organization();
    const phone = uniqueMobile();
    const first = await pendingUser(client, organizationId, { phone: { phone, returnCode: {} } });
    const second = await pendingUser(client, organizationId, { phone: { phone, returnCode: {} } });
    expectOk(await client.call("verifyPhone", { userId: first.userId, verificationCode: first.code }));

    const taken = expectFailure(await client.call("verifyPhone", { userId: second.userId, verificationCode: second.code }));
    expect(taken).toMatchObject({ code: 6, errorInfo: { reason: "PHONE_ALREADY_IN_USE" } });
    if (taken.httpStatus !== undefined) expect(taken.httpStatus).toBe(409);
    // The code is spent and nothing else changed: the number still waits, unverified, for a new code.
    expect(expectFailure(await client.call("verifyPhone", { userId: second.userId, verificationCode: second.code })).errorInfo?.reason).toBe("NO_PENDING_CODE");
    const shown = expectOk(await client.call("getUserByID", { userId: second.userId }));
    expect((shown.user as JsonObject).human).toMatchObject({ phone: { phone } });
    expect(((shown.user as JsonObject).human as JsonObject).phone).not.toHaveProperty("isVerified");
    // The delivery of the second user's code may be recorded at any moment, so only the calls' events are looked at.
    expect((await reader.appended(second.userId)).at(-1)).toBe("phone.verification.failed");

    // Declaring it verified for another user of the organization is refused too, and creates nobody.
    const preset = expectFailure(
      await client.call("addHumanUser", { profile, organization: { orgId: organizationId }, phone: { phone, isVerified: true } }),
    );
    expect(preset).toMatchObject({ code: 6, errorInfo: { reason: "PHONE_ALREADY_IN_USE" } });
    // Another organization's user may verify the same number.
    const elsewhere = await pendingUser(client, await setup.organization(), { phone: { phone, returnCode: {} } });
    expectOk(await client.call("verifyPhone", { userId: elsewhere.userId, verificationCode: elsewhere.code }));
  });

  it.each(allProtocols)("email over %s: AlreadyExists EMAIL_ALREADY_IN_USE, whatever the letter case of the address", async (protocol) => {
    const client = protocolClient(protocol, server.url, server.adminToken);
    const organizationId = await setup.organization();
    const email = `taken-${protocol}@example.com`;
    const first = await pendingUser(client, organizationId, { username: `first-${protocol}`, email: { email, returnCode: {} } });
    expectOk(await client.call("verifyEmail", { userId: first.userId, verificationCode: first.code }));
    for (const [i, spelling] of [email.replace("example.com", "EXAMPLE.com"), `Taken-${protocol}@example.com`, email.toUpperCase()].entries()) {
      const other = await pendingUser(client, organizationId, { username: `other-${i}-${protocol}`, email: { email: spelling, returnCode: {} } });
      const taken = expectFailure(await client.call("verifyEmail", { userId: other.userId, verificationCode: other.code }));
      expect(taken, spelling).toMatchObject({ code: 6, errorInfo: { reason: "EMAIL_ALREADY_IN_USE" } });
      // Kept as given while it waits.
      const shown = expectOk(await client.call("getUserByID", { userId: other.userId }));
      expect(((shown.user as JsonObject).human as JsonObject).email).toMatchObject({ email: spelling.replace("EXAMPLE.COM", "example.com").replace("EXAMPLE.com", "example.com") });
    }
  });
});

describe("SMS destinations per organization: an allow or deny list of country calling codes", () => {
  const settings = (client: ProtocolClient, organizationId: string, phoneCountries: JsonObject, testContacts: JsonObject[] = []) =>
    client.callService("VerificationSettingsService", "setVerificationSettings", { organizationId, phoneCountries, testContacts });

  it.each(allProtocols)("over %s: refused before any code is made, InvalidArgument PHONE_COUNTRY_NOT_ALLOWED", async (protocol) => {
    const client = protocolClient(protocol, server.url, server.adminToken);
    const swissOnly = await setup.organization();
    expectOk(await settings(client, swissOnly, { mode: "PHONE_COUNTRIES_MODE_ALLOW_LIST", callingCodes: ["41"] }));
    const british = "+447911123456";

    const refused = expectFailure(await client.call("addHumanUser", { profile, organization: { orgId: swissOnly }, phone: { phone: british, sendCode: {} } }));
    expect(refused).toMatchObject({ code: 3, errorInfo: { reason: "PHONE_COUNTRY_NOT_ALLOWED", metadata: { callingCode: "44" } } });
    if (refused.httpStatus !== undefined) expect(refused.httpStatus).toBe(400);
    const { userId } = await pendingUser(client, swissOnly, { phone: { phone: uniqueMobile(), sendCode: {} } });
    await reader.appended(userId);
    expect(expectFailure(await client.call("setPhone", { userId, phone: british, returnCode: {} })).errorInfo?.reason).toBe("PHONE_COUNTRY_NOT_ALLOWED");
    expect(await reader.appended(userId), "nothing written").toEqual([]);

    // A deny list; and a number set before the list changed gets no more codes sent.
    const noSwiss = await setup.organization();
    const { userId: swiss } = await pendingUser(client, noSwiss, { phone: { phone: uniqueMobile(), returnCode: {} } });
    expectOk(await settings(client, noSwiss, { mode: "PHONE_COUNTRIES_MODE_DENY_LIST", callingCodes: ["41"] }));
    expect(expectFailure(await client.call("resendPhoneCode", { userId: swiss, sendCode: {} })).errorInfo?.reason).toBe("PHONE_COUNTRY_NOT_ALLOWED");
    expectOk(await client.call("addHumanUser", { profile, organization: { orgId: noSwiss }, phone: { phone: british, returnCode: {} } }));
    // Other organizations still send anywhere.
    expectOk(await client.call("addHumanUser", { profile, phone: { phone: british, returnCode: {} } }));
  });

  it.each(allProtocols)("test contacts over %s: the fixed code, never delivered, counted in the limits", async (protocol) => {
    const client = protocolClient(protocol, server.url, server.adminToken);
    const organizationId = await setup.organization();
    const reviewer = uniqueMobile();
    expectOk(await settings(client, organizationId, { mode: "PHONE_COUNTRIES_MODE_ALL" }, [{ phone: reviewer, code: "424242" }]));
    await server.outbox.runOnce();
    const delivered = server.delivered.length;
    const { userId } = await pendingUser(client, organizationId, { phone: { phone: reviewer, sendCode: {} } });
    await server.outbox.runOnce();
    expect(server.delivered.length, "nothing delivered to a test contact").toBe(delivered);
    // Counted like any other send: the cooldown applies.
    expectLimitReached(await client.call("resendPhoneCode", { userId, sendCode: {} }), "send_cooldown", 60_000);
    expect(expectOk(await client.call("resendPhoneCode", { userId, returnCode: {} })).verificationCode).toBe("424242");
    expectOk(await client.call("verifyPhone", { userId, verificationCode: "424242" }));
  });

  it.each(allProtocols)("an email test contact over %s: its fixed code for its address in any letter case", async (protocol) => {
    const client = protocolClient(protocol, server.url, server.adminToken);
    const organizationId = await setup.organization();
    expectOk(await settings(client, organizationId, { mode: "PHONE_COUNTRIES_MODE_ALL" }, [{ email: `App-Review-${protocol}@example.com`, code: "Review1" }]));
    await server.outbox.runOnce();
    const delivered = server.delivered.length;
    const { userId } = await pendingUser(client, organizationId, { email: { email: `app-review-${protocol}@Example.com`, sendCode: {} } });
    await server.outbox.runOnce();
    expect(server.delivered.length, "nothing delivered to a test contact").toBe(delivered);
    expectOk(await client.call("verifyEmail", { userId, verificationCode: "Review1" }));
  });
});
