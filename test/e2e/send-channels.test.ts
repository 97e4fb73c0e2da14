// --send-channels: a server that sends SMS codes but not email codes (--send-channels phone) refuses send_code for an
// email address on every call that would send one, ZITADEL's with FailedPrecondition CODE_DELIVERY_DISABLED and Kii's
// with its invalid-input answer naming the address, nothing written or sent, while return_code keeps working and phone
// codes are sent.
import type { JsonObject } from "@bufbuild/protobuf";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fixtures, unique, uniqueMobile } from "../helpers/api-session.js";
import { createKiiApp, registrationRequestType } from "../helpers/kii-client.js";
import { type CallResult, type MethodName, expectFailure, expectOk, protocolClient } from "../helpers/protocol-clients.js";
import { type TestServer, startTestServer } from "../helpers/test-server.js";

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer(["--send-channels", "phone"]);
});

afterAll(async () => {
  await server.close();
});

const profile = { givenName: "Ada", familyName: "Lovelace" };
const call = (method: MethodName, body: JsonObject) => protocolClient("grpc", server.url, server.adminToken).call(method, body);

function expectDeliveryDisabled(result: CallResult): void {
  expect(expectFailure(result)).toMatchObject({
    code: 9,
    message: "This server does not send codes by email; ask for the code with return_code (DELIVERY-n0Snd)",
    errorInfo: { reason: "CODE_DELIVERY_DISABLED", metadata: { channel: "email" } },
  });
}

/** What the outbox delivered of email, after a run. */
async function emailsDelivered(): Promise<number> {
  await server.outbox.runOnce();
  return server.delivered.filter((message) => message.channel === "email").length;
}

describe("--send-channels phone", () => {
  it("refuses send_code for an email on AddHumanUser, SetEmail, ResendEmailCode and SendEmailCode, and sends nothing", async () => {
    const email = `${unique("ada")}@example.com`;
    expectDeliveryDisabled(await call("addHumanUser", { profile, email: { email, sendCode: {} } }));

    const added = expectOk(await call("addHumanUser", { profile, email: { email, returnCode: {} } }));
    const userId = added.userId as string;
    expectDeliveryDisabled(await call("setEmail", { userId, email: `${unique("grace")}@example.com`, sendCode: {} }));
    server.clock.advance(server.config.verificationLimits.sendCooldownMs);
    expectDeliveryDisabled(await call("resendEmailCode", { userId, sendCode: {} }));
    expectDeliveryDisabled(await call("sendEmailCode", { userId, sendCode: {} }));

    // The code returned at the start is still the one that verifies: no refused call replaced it.
    expectOk(await call("verifyEmail", { userId, verificationCode: added.emailCode }));
    expect(await emailsDelivered()).toBe(0);
  });

  it("returns email codes with return_code, and sends phone codes", async () => {
    const phone = uniqueMobile();
    const added = expectOk(await call("addHumanUser", { profile, phone: { phone, sendCode: {} }, email: { email: `${unique("ada")}@example.com`, returnCode: {} } }));
    expect(added.emailCode).toMatch(/^\d{6}$/);

    await server.outbox.runOnce();
    expect(server.delivered.filter((message) => message.destination === phone)).toHaveLength(1);
  });

  it("refuses a Kii registration with an email address to verify, and takes one with a phone number", async () => {
    const app = await createKiiApp(server, await fixtures(server.url, server.adminToken).organization(unique("kii")));
    const register = (fields: object) =>
      app.call("POST", "/users", {
        authorization: app.basic,
        contentType: registrationRequestType,
        body: { loginName: unique("user"), password: "123ABC-long-enough", ...fields },
      });

    const refused = await register({ emailAddress: `${unique("ada")}@example.com` });
    expect(refused.status).toBe(400);
    // Kii's answer for a field that cannot be used, and no word of return_code, which Kii's clients do not have.
    expect(refused.body).toEqual({
      errorCode: "INVALID_INPUT_DATA",
      message: "This server does not send codes by email",
      reason: "CODE_DELIVERY_DISABLED",
      invalidFields: { emailAddress: "This server does not send codes by email" },
    });
    expect((await register({ phoneNumber: uniqueMobile() })).status).toBe(201);
    expect(await emailsDelivered()).toBe(0);
  });
});
