// The VerifyPhone path, end to end, on every protocol: the same call gets the same answer and the same error
// code, id, reason and metadata whether it arrives over Connect, gRPC, gRPC-Web or REST.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { allProtocols, protocolClient, expectFailure, expectOk } from "../helpers/protocol-clients.js";
import { uniqueMobile } from "../helpers/api-session.js";
import { type TestServer, startTestServer } from "../helpers/test-server.js";

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server.close();
});

const profile = { givenName: "Ada", familyName: "Lovelace" };

describe.each(allProtocols)("VerifyPhone over %s", (protocol) => {
  const client = () => protocolClient(protocol, server.url, server.adminToken);

  async function userWithPhoneCode() {
    const mobile = uniqueMobile();
    const added = expectOk(
      await client().call("addHumanUser", { profile, phone: { phone: mobile, returnCode: {} } }),
    );
    return { userId: added.userId as string, code: added.phoneCode as string, added, mobile };
  }

  it("verifies the phone with the returned code and reports details", async () => {
    const { userId, code, added, mobile } = await userWithPhoneCode();
    expect(code).toMatch(/^\d{6}$/);
    expect(added.details).toMatchObject({ sequence: "2" });

    const verified = expectOk(await client().call("verifyPhone", { userId, verificationCode: code }));
    const details = verified.details as Record<string, string>;
    expect(details.sequence).toBe("3");
    expect(Date.parse(details.changeDate as string)).toBe(server.clock.now().getTime());
    expect(details.resourceOwner).toMatch(/^\d+$/);
    expect(details).not.toHaveProperty("creationDate");

    const user = expectOk(await client().call("getUserByID", { userId }));
    expect(user).toMatchObject({
      user: { userId, human: { phone: { phone: mobile, isVerified: true } } },
    });
  });

  it("takes the code with the spaces or line break a paste brings around it", async () => {
    const { userId, code } = await userWithPhoneCode();
    const verified = expectOk(await client().call("verifyPhone", { userId, verificationCode: ` ${code}\n` }));
    expect(verified.details).toMatchObject({ sequence: "3" });
  });

  it.each([
    ["grouped by a space, as some messages show it", (code: string) => `${code.slice(0, 3)} ${code.slice(3)}`],
    ["with a zero-width space or a soft hyphen inside", (code: string) => `${code.slice(0, 2)}\u200B${code.slice(2, 4)}\u00AD${code.slice(4)}`],
    ["wrapped in bidirectional isolates, as a right-to-left page copies it", (code: string) => `\u2068${code}\u2069`],
    ["after a byte order mark, beside a no-break space", (code: string) => `\uFEFF${code}\u00A0`],
  ])("takes the code %s", async (_how, typed) => {
    const { userId, code } = await userWithPhoneCode();
    const verified = expectOk(await client().call("verifyPhone", { userId, verificationCode: typed(code) }));
    expect(verified.details).toMatchObject({ sequence: "3" });
  });

  it.each([
    ["fullwidth digits, as Chinese and Japanese input methods type them", 0xff10],
    ["Arabic-Indic digits, as an Arabic keyboard types them", 0x0660],
    ["Devanagari digits", 0x0966],
  ])("takes the code typed in %s", async (_script, zero) => {
    const { userId, code } = await userWithPhoneCode();
    const typed = code.replace(/\d/g, (digit) => String.fromCodePoint(zero + Number(digit)));
    expect(typed).not.toBe(code);
    const verified = expectOk(await client().call("verifyPhone", { userId, verificationCode: typed }));
    expect(verified.details).toMatchObject({ sequence: "3" });
  });

  it("answers a wrong code with InvalidArgument COMMAND-eis9R and the attempts left", async () => {
    const { userId } = await userWithPhoneCode();
    const failure = expectFailure(await client().call("verifyPhone", { userId, verificationCode: "000000x" }));
    expect(failure).toMatchObject({
      code: 3,
      message: "Code is invalid (COMMAND-eis9R)",
      errorDetail: { id: "COMMAND-eis9R", message: "Code is invalid" },
      errorInfo: { reason: "INVALID_VERIFICATION_CODE", domain: "verifyd", metadata: { attemptsLeft: "4" } },
    });
    if (protocol === "rest") expect(failure.httpStatus).toBe(400);
  });

  it("kills a code after five wrong attempts, even for the right code", async () => {
    const { userId, code } = await userWithPhoneCode();
    const attemptsLeft: string[] = [];
    for (let i = 0; i < 5; i++) {
      const failure = expectFailure(await client().call("verifyPhone", { userId, verificationCode: "wrong" }));
      attemptsLeft.push(failure.errorInfo?.metadata.attemptsLeft ?? "");
    }
    expect(attemptsLeft).toEqual(["4", "3", "2", "1", "0"]);
    const dead = expectFailure(await client().call("verifyPhone", { userId, verificationCode: code }));
    expect(dead).toMatchObject({ code: 8, errorInfo: { reason: "MAX_ATTEMPTS_REACHED" } });
    if (protocol === "rest") expect(dead.httpStatus).toBe(429);
  });

  it("answers the interleaved wrong codes of two users each with that user's own attempts left", async () => {
    // Equal refusals share one wire error (api/connect-errors.ts): the sharing must never hand one user's count to
    // another.
    const [first, second] = await Promise.all([userWithPhoneCode(), userWithPhoneCode()]);
    const attemptsLeftOf = async (userId: string) =>
      expectFailure(await client().call("verifyPhone", { userId, verificationCode: "wrong" })).errorInfo?.metadata.attemptsLeft;
    const answers = [
      await attemptsLeftOf(first.userId),
      await attemptsLeftOf(second.userId),
      await attemptsLeftOf(second.userId),
      ...(await Promise.all([attemptsLeftOf(first.userId), attemptsLeftOf(second.userId)])),
      await attemptsLeftOf(first.userId),
    ];
    expect(answers).toEqual(["4", "4", "3", "3", "2", "2"]);
  });

  it("refuses an expired code with FailedPrecondition CODE_EXPIRED", async () => {
    const { userId, code } = await userWithPhoneCode();
    server.clock.advance(10 * 60_000);
    const expired = expectFailure(await client().call("verifyPhone", { userId, verificationCode: code }));
    expect(expired).toMatchObject({ code: 9, errorInfo: { reason: "CODE_EXPIRED" } });
    if (protocol === "rest") expect(expired.httpStatus).toBe(400);
  });

  it("refuses a second use of a code with ALREADY_VERIFIED", async () => {
    const { userId, code } = await userWithPhoneCode();
    expectOk(await client().call("verifyPhone", { userId, verificationCode: code }));
    const again = expectFailure(await client().call("verifyPhone", { userId, verificationCode: code }));
    expect(again).toMatchObject({ code: 9, errorInfo: { reason: "ALREADY_VERIFIED" } });
  });

  it("answers NO_PENDING_CODE for a user without a phone", async () => {
    const added = expectOk(
      await client().call("addHumanUser", { profile, email: { email: `ada-${protocol}@example.com`, isVerified: true } }),
    );
    const failure = expectFailure(
      await client().call("verifyPhone", { userId: added.userId as string, verificationCode: "123456" }),
    );
    expect(failure).toMatchObject({ code: 9, errorInfo: { reason: "NO_PENDING_CODE" } });
  });

  it("answers NotFound USER_NOT_FOUND for an unknown user", async () => {
    const failure = expectFailure(await client().call("verifyPhone", { userId: "123", verificationCode: "123456" }));
    expect(failure).toMatchObject({ code: 5, errorInfo: { reason: "USER_NOT_FOUND" } });
    if (protocol === "rest") expect(failure.httpStatus).toBe(404);
  });

  it("records every failed attempt as an event that advances the sequence", async () => {
    const { userId, code } = await userWithPhoneCode();
    expectFailure(await client().call("verifyPhone", { userId, verificationCode: "wrong" }));
    const verified = expectOk(await client().call("verifyPhone", { userId, verificationCode: code }));
    expect(verified.details).toMatchObject({ sequence: "4" });
  });

  it.each([
    ["an empty code", ""],
    ["21 characters", "x".repeat(21)],
    ["21 emoji", "😀".repeat(21)],
  ])("rejects %s with InvalidArgument naming the field", async (_name, verificationCode) => {
    const { userId } = await userWithPhoneCode();
    const failure = expectFailure(await client().call("verifyPhone", { userId, verificationCode }));
    expect(failure.code).toBe(3);
    expect(failure.message).toContain("verification_code");
    if (protocol === "rest") expect(failure.httpStatus).toBe(400);
  });

  it.each([
    ["spaces", "   "],
    ["a line break", "\n"],
    ["a zero-width space", "\u200B"],
    ["a soft hyphen and a line separator", "\u00AD\u2028"],
  ])("refuses a code of only %s as CODE_BLANK, without judging it: no attempt is spent", async (_name, verificationCode) => {
    const { userId, code } = await userWithPhoneCode();
    const failure = expectFailure(await client().call("verifyPhone", { userId, verificationCode }));
    expect(failure).toMatchObject({ code: 3, errorInfo: { reason: "CODE_BLANK" } });
    if (protocol === "rest") expect(failure.httpStatus).toBe(400);
    const wrong = expectFailure(await client().call("verifyPhone", { userId, verificationCode: "wrong" }));
    expect(wrong.errorInfo?.metadata).toMatchObject({ attemptsLeft: "4" });
    expectOk(await client().call("verifyPhone", { userId, verificationCode: code }));
  });

  it("accepts 20 emoji as a code of valid length (and judges it as a code)", async () => {
    const { userId } = await userWithPhoneCode();
    const failure = expectFailure(await client().call("verifyPhone", { userId, verificationCode: "😀".repeat(20) }));
    expect(failure.errorInfo?.reason).toBe("INVALID_VERIFICATION_CODE");
  });

  it("sets a phone on an existing user and verifies it", async () => {
    const added = expectOk(
      await client().call("addHumanUser", { profile, email: { email: `grace-${protocol}@example.com`, returnCode: {} } }),
    );
    const userId = added.userId as string;
    const mobile = uniqueMobile();
    const spaced = `${mobile.slice(0, 3)} ${mobile.slice(3, 5)} ${mobile.slice(5)}`;
    const set = expectOk(await client().call("setPhone", { userId, phone: spaced, returnCode: {} }));
    expect(set.verificationCode).toMatch(/^\d{6}$/);
    expectOk(await client().call("verifyPhone", { userId, verificationCode: set.verificationCode as string }));
    const user = expectOk(await client().call("getUserByID", { userId }));
    expect(user).toMatchObject({ user: { human: { phone: { phone: mobile, isVerified: true } } } });
  });

  it("refuses numbers that are not valid mobile numbers with PHONE-so0wa", async () => {
    for (const phone of ["0791234567", "+4179123", "+41 44 234 56 78"]) {
      const failure = expectFailure(await client().call("addHumanUser", { profile, phone: { phone, returnCode: {} } }));
      expect(failure).toMatchObject({ code: 3, errorDetail: { id: "PHONE-so0wa" } });
    }
  });

  it("refuses a field it does not support with Unimplemented naming it", async () => {
    const failure = expectFailure(
      await client().call("addHumanUser", {
        profile,
        phone: { phone: uniqueMobile(), returnCode: {} },
        metadata: [{ key: "k", value: "dg==" }],
      }),
    );
    expect(failure.code).toBe(12);
    expect(failure.message).toContain("metadata");
    if (protocol === "rest") expect(failure.httpStatus).toBe(501);
  });

  it("refuses an unsupported field inside a nested message, naming its path", async () => {
    const failure = expectFailure(
      await client().call("addHumanUser", {
        profile,
        phone: { phone: uniqueMobile(), returnCode: {} },
        organization: { orgDomain: "acme.example" },
      }),
    );
    expect(failure.code).toBe(12);
    expect(failure.message).toContain("organization.org_domain");
  });

  it("requires an email or a phone", async () => {
    const failure = expectFailure(await client().call("addHumanUser", { profile }));
    expect(failure.code).toBe(3);
  });

  it("refuses a custom user id that exists with COMMAND-7yiox1isql", async () => {
    const userId = `custom-${protocol}`;
    const mobile = uniqueMobile();
    expectOk(await client().call("addHumanUser", { userId, profile, phone: { phone: mobile, returnCode: {} } }));
    const failure = expectFailure(
      await client().call("addHumanUser", { userId, profile, phone: { phone: mobile, returnCode: {} } }),
    );
    expect(failure).toMatchObject({ code: 9, errorDetail: { id: "COMMAND-7yiox1isql" } });
  });

  it("answers NotFound for an unknown organization", async () => {
    const failure = expectFailure(
      await client().call("addHumanUser", { profile, organization: { orgId: "404" }, phone: { phone: uniqueMobile() } }),
    );
    expect(failure.code).toBe(5);
  });
});
