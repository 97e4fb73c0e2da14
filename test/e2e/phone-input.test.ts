// A phone number is taken only when the input is nothing but a phone number: text after it, an extension or a NUL
// used to be dropped silently (the number before it was stored); now the call is refused and nothing changes.
import type { JsonObject } from "@bufbuild/protobuf";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { uniqueMobile } from "../helpers/api-session.js";
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

/** The groups of a Swiss mobile number in E.164 (+41 79 123 45 67): its 9 national digits as 2, 3, 2 and 2. */
const groups = (e164: string): [string, string, string, string] => {
  const national = e164.slice(3);
  return [national.slice(0, 2), national.slice(2, 5), national.slice(5, 7), national.slice(7, 9)];
};

/** Spelled with spaces, as a person writes it: "+41 79 123 45 67". */
const spaced = (e164: string) => `+41 ${groups(e164).join(" ")}`;

/** Written as people write numbers; each spells a valid Swiss mobile number given in E.164. */
const formatted: [string, (e164: string) => string][] = [
  ["spaces", spaced],
  ["the national trunk prefix in parentheses", (e164) => `+41 (0)${groups(e164).join(" ")}`],
  ["dashes", (e164) => `+41-${groups(e164).join("-")}`],
  ["dots", (e164) => `+41.${groups(e164).join(".")}`],
  ["a slash", (e164) => `+41 ${groups(e164)[0]}/${groups(e164).slice(1).join(" ")}`],
  ["no-break spaces, as pasted from a web page", (e164) => `+41\u00a0${groups(e164).join("\u00a0")}`],
  ["spaces around it", (e164) => `  ${spaced(e164)} `],
  [
    "fullwidth forms, as Chinese and Japanese input methods type them",
    (e164) => `＋４１ （０）${groups(e164).join(" ")}`.replace(/[0-9]/g, (digit) => String.fromCharCode(digit.charCodeAt(0) + 0xfee0)),
  ],
  ["Arabic-Indic digits", (e164) => spaced(e164).replace(/[0-9]/g, (digit) => String.fromCharCode(digit.charCodeAt(0) - 0x30 + 0x660))],
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
    const verified = uniqueMobile();
    const added = expectOk(await call("addHumanUser", { profile, phone: { phone: spaced(verified), isVerified: true } }));
    const userId = added.userId as string;
    const failure = expectFailure(await call("setPhone", { userId, phone, returnCode: {} }));
    expect(failure).toMatchObject({ code: 3, errorDetail: { id: "PHONE-so0wa" }, errorInfo: { reason: "PHONE_INVALID" } });
    expect(await phoneOf(userId)).toEqual({ phone: verified, isVerified: true });
  });

  it.each(formatted)("a number written with %s is taken and stored in E.164", async (_case, spell) => {
    const e164 = uniqueMobile();
    const phone = spell(e164);
    expect(phone).not.toBe(e164);
    const added = expectOk(await call("addHumanUser", { profile, phone: { phone, returnCode: {} } }));
    expect(await phoneOf(added.userId as string)).toEqual({ phone: e164 });
    const verified = uniqueMobile();
    const other = expectOk(await call("addHumanUser", { profile, phone: { phone: spaced(verified), isVerified: true } }));
    expectOk(await call("setPhone", { userId: other.userId as string, phone, returnCode: {} }));
    expect(await phoneOf(other.userId as string)).toEqual({ phone: verified, isVerified: true, pendingPhone: e164 });
  });
});
