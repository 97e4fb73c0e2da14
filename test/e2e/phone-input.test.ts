// A phone number is taken only when the input is nothing but a phone number: text after it, an extension or a NUL
// used to be dropped silently (the number before it was stored); now the call is refused and nothing changes.
import type { JsonObject } from "@bufbuild/protobuf";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ProtocolName, expectFailure, expectOk, protocolClient } from "../helpers/protocol-clients.js";
import { type TestServer, startTestServer } from "../helpers/test-server.js";

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server.close();
});

const profile = { givenName: "Ada", familyName: "Lovelace" };

const notJustANumber = [
  ["trailing letters", "+41791112238abc"],
  ["trailing words", "+41 79 111 22 37 call me"],
  ["an extension", "+41 79 111 22 38 ext. 12"],
  ["a NUL", "+41791112238\u0000"],
];

/** Written as people write numbers; each is a valid Swiss mobile number. */
const formatted = [
  ["spaces", "+41 79 111 22 38", "+41791112238"],
  ["the national trunk prefix in parentheses", "+41 (0)79 111 22 39", "+41791112239"],
  ["dashes", "+41-79-111-22-40", "+41791112240"],
  ["dots", "+41.79.111.22.41", "+41791112241"],
  ["a slash", "+41 79/111 22 42", "+41791112242"],
  ["no-break spaces, as pasted from a web page", "+41\u00a079\u00a0111\u00a022\u00a043", "+41791112243"],
  ["spaces around it", "  +41 79 111 22 44 ", "+41791112244"],
];

describe.each(["connect-json", "grpc", "rest"] as ProtocolName[])("phone input over %s", (protocol) => {
  const call = (method: "addHumanUser" | "setPhone" | "getUserByID", request: JsonObject) =>
    protocolClient(protocol, server.url, server.adminToken).call(method, request);

  const phoneOf = async (userId: string) =>
    ((expectOk(await call("getUserByID", { userId })).user as JsonObject).human as JsonObject).phone;

  it.each(notJustANumber)("AddHumanUser with %s is refused with PHONE_INVALID", async (_case, phone) => {
    const failure = expectFailure(await call("addHumanUser", { profile, phone: { phone, returnCode: {} } }));
    expect(failure).toMatchObject({ code: 3, errorDetail: { id: "PHONE-so0wa" }, errorInfo: { reason: "PHONE_INVALID" } });
    expect(failure.errorInfo?.metadata.detail).toBe("must be only a phone number: digits, spaces and + - ( ) . /, no extension or other text");
  });

  it.each(notJustANumber)("SetPhone with %s is refused with PHONE_INVALID and changes nothing", async (_case, phone) => {
    const added = expectOk(await call("addHumanUser", { profile, phone: { phone: "+41 79 111 22 50", isVerified: true } }));
    const userId = added.userId as string;
    const failure = expectFailure(await call("setPhone", { userId, phone, returnCode: {} }));
    expect(failure).toMatchObject({ code: 3, errorDetail: { id: "PHONE-so0wa" }, errorInfo: { reason: "PHONE_INVALID" } });
    expect(await phoneOf(userId)).toEqual({ phone: "+41791112250", isVerified: true });
  });

  it.each(formatted)("a number written with %s is taken and stored in E.164", async (_case, phone, e164) => {
    const added = expectOk(await call("addHumanUser", { profile, phone: { phone, returnCode: {} } }));
    expect(await phoneOf(added.userId as string)).toEqual({ phone: e164 });
    const other = expectOk(await call("addHumanUser", { profile, phone: { phone: "+41 79 111 22 51", isVerified: true } }));
    expectOk(await call("setPhone", { userId: other.userId as string, phone, returnCode: {} }));
    expect(await phoneOf(other.userId as string)).toEqual({ phone: "+41791112251", isVerified: true, pendingPhone: e164 });
  });
});
