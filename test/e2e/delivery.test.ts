// What reaches the person: only the latest code of a contact is delivered, and recorded as sent; older messages are
// wiped unsent.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openEventReader } from "../helpers/events.js";
import { protocolClient } from "../helpers/protocol-clients.js";
import { type TestServer, startTestServer } from "../helpers/test-server.js";

let server: TestServer;
beforeAll(async () => {
  // What a call wipes must still be waiting when it comes: the worker delivers only when the test says so.
  server = await startTestServer([], { deliverOnRunOnceOnly: true });
});
afterAll(async () => {
  await server.close();
});

const profile = { givenName: "Grace", familyName: "Hopper" };

describe("delivery", () => {
  it("delivers only the latest code when codes are replaced before delivery", async () => {
    const client = protocolClient("connect-json", server.url, server.adminToken);
    const added = await client.call("addHumanUser", { profile, phone: { phone: "+41791110001", sendCode: {} } });
    if (!added.ok) throw new Error(added.message);
    const userId = added.body.userId as string;
    server.clock.advance(server.config.verificationLimits.sendCooldownMs);
    const resent = await client.call("resendPhoneCode", { userId, sendCode: {} });
    expect(resent.ok).toBe(true);
    await server.outbox.runOnce();

    const messages = server.delivered.filter((message) => message.destination === "+41791110001");
    expect(messages).toHaveLength(1);
    // One message went out, and one `code.sent` records it: none for the wiped one.
    const reader = openEventReader(server.config.database);
    try {
      expect((await reader.types(userId)).filter((type) => type === "phone.code.sent")).toHaveLength(1);
    } finally {
      reader.close();
    }
    const code = /code is (\d+)/.exec(messages[0]?.text ?? "")?.[1] ?? "";
    const verified = await client.call("verifyPhone", { userId, verificationCode: code });
    expect(verified.ok).toBe(true);
  });

  it("sends nothing to a number that was replaced or removed before delivery", async () => {
    const client = protocolClient("rest", server.url, server.adminToken);
    const added = await client.call("addHumanUser", { profile, phone: { phone: "+41791110002" } });
    if (!added.ok) throw new Error(added.message);
    const userId = added.body.userId as string;
    server.clock.advance(server.config.verificationLimits.sendCooldownMs);
    expect((await client.call("setPhone", { userId, phone: "+41791110003" })).ok).toBe(true);
    expect((await client.call("removePhone", { userId })).ok).toBe(true);
    await server.outbox.runOnce();

    const destinations = server.delivered.map((message) => message.destination);
    expect(destinations).not.toContain("+41791110002");
    expect(destinations).not.toContain("+41791110003");
  });

  it("sends nothing of a code whose attempts were spent before delivery: it could only be refused", async () => {
    const client = protocolClient("grpc", server.url, server.adminToken);
    const added = await client.call("addHumanUser", { profile, phone: { phone: "+41791110004", sendCode: {} } });
    if (!added.ok) throw new Error(added.message);
    const userId = added.body.userId as string;
    for (let attempt = 0; attempt < server.config.code.maxAttempts; attempt++) {
      expect(await client.call("verifyPhone", { userId, verificationCode: "not-it" })).toMatchObject({ ok: false, errorInfo: { reason: "INVALID_VERIFICATION_CODE" } });
    }
    await server.outbox.runOnce();
    expect(server.delivered.map((message) => message.destination)).not.toContain("+41791110004");
  });
});

