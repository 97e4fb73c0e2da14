// Every UserService flow besides VerifyPhone's own error cases (test/e2e/verify-phone.test.ts), end to end on every
// protocol: the codes a person receives (delivered) or a trusted caller gets back (returned) are the ones that verify,
// an old code stops working once a new one is issued, and GetUserByID shows what the calls did.
import type { JsonObject } from "@bufbuild/protobuf";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { OutgoingMessage } from "../../src/domain/outgoing-message.js";
import { type MethodName, allProtocols, protocolClient, expectFailure, expectOk } from "../helpers/protocol-clients.js";
import { type TestServer, startTestServer } from "../helpers/test-server.js";

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server.close();
});

const profile = { givenName: "Ada", familyName: "Lovelace" };



let counter = 0;
/** A Swiss mobile number no other test in this file uses. */
function uniquePhone(): string {
  counter++;
  return `+4179${String(1_000_000 + counter).slice(-7)}`;
}
function uniqueEmail(tag: string): string {
  counter++;
  return `${tag}-${counter}@example.com`;
}

const codePattern = /verification code is (\d{6})\b/;

function codeIn(message: OutgoingMessage): string {
  const match = codePattern.exec(message.text);
  if (!match) throw new Error(`no code in message: ${message.text}`);
  return match[1] as string;
}

/** Runs a call, has the outbox deliver now, and returns what was delivered to the destination meanwhile. */
async function withDeliveries<T>(destination: string, call: () => Promise<T>): Promise<{ result: T; messages: OutgoingMessage[] }> {
  const mark = server.delivered.length;
  const result = await call();
  await server.outbox.runOnce();
  return { result, messages: server.delivered.slice(mark).filter((message) => message.destination === destination) };
}

describe.each(allProtocols)("flows over %s", (protocol) => {
  const client = () => protocolClient(protocol, server.url, server.adminToken);
  const call = (method: MethodName, request: JsonObject) => client().call(method, request);

  async function getUser(userId: string) {
    const body = expectOk(await call("getUserByID", { userId }));
    const user = body.user as JsonObject;
    return { body, user, human: user.human as JsonObject };
  }

  async function sequenceOf(userId: string): Promise<string> {
    return ((await getUser(userId)).body.details as JsonObject).sequence as string;
  }

  async function phoneUser(phone = uniquePhone()) {
    const added = expectOk(await call("addHumanUser", { profile, phone: { phone, returnCode: {} } }));
    return { userId: added.userId as string, code: added.phoneCode as string, phone, added };
  }

  async function emailUser(email = uniqueEmail(`ada-${protocol}`)) {
    const added = expectOk(await call("addHumanUser", { profile, email: { email, returnCode: {} } }));
    return { userId: added.userId as string, code: added.emailCode as string, email, added };
  }

  describe("ResendPhoneCode", () => {
    it("with send_code delivers a fresh code to the number; the old code no longer verifies, the new one does", async () => {
      const { userId, code: oldCode, phone } = await phoneUser();
      const { result, messages } = await withDeliveries(phone, () => call("resendPhoneCode", { userId, sendCode: {} }));
      const resent = expectOk(result);
      expect(resent).not.toHaveProperty("verificationCode");
      expect(resent.details).toMatchObject({ sequence: "3" });
      expect(messages).toHaveLength(1);
      expect(messages[0]).toMatchObject({ channel: "phone", destination: phone });
      const newCode = codeIn(messages[0] as OutgoingMessage);

      if (newCode !== oldCode) {
        const old = expectFailure(await call("verifyPhone", { userId, verificationCode: oldCode }));
        expect(old).toMatchObject({ code: 3, errorDetail: { id: "COMMAND-eis9R" } });
      }
      expectOk(await call("verifyPhone", { userId, verificationCode: newCode }));
      expect((await getUser(userId)).human.phone).toEqual({ phone, isVerified: true });
    });

    it("with return_code answers the fresh code and delivers nothing", async () => {
      const { userId, code: oldCode, phone } = await phoneUser();
      const { result, messages } = await withDeliveries(phone, () => call("resendPhoneCode", { userId, returnCode: {} }));
      const newCode = expectOk(result).verificationCode as string;
      expect(newCode).toMatch(/^\d{6}$/);
      expect(messages).toEqual([]);

      if (newCode !== oldCode) {
        expect(expectFailure(await call("verifyPhone", { userId, verificationCode: oldCode })).errorInfo?.reason).toBe(
          "INVALID_VERIFICATION_CODE",
        );
      }
      expectOk(await call("verifyPhone", { userId, verificationCode: newCode }));
      expect((await getUser(userId)).human.phone).toEqual({ phone, isVerified: true });
    });
  });

  describe("RemovePhone", () => {
    it("removes a verified phone: GetUserByID shows an empty phone and VerifyPhone answers NO_PENDING_CODE", async () => {
      const phone = uniquePhone();
      const added = expectOk(
        await call("addHumanUser", { profile, email: { email: uniqueEmail(`rm-${protocol}`), isVerified: true }, phone: { phone, isVerified: true } }),
      );
      const userId = added.userId as string;
      expect((await getUser(userId)).human.phone).toEqual({ phone, isVerified: true });

      const removed = expectOk(await call("removePhone", { userId }));
      expect(removed.details).toMatchObject({ sequence: "4", resourceOwner: (added.details as JsonObject).resourceOwner });

      const { human } = await getUser(userId);
      expect(human.phone).toEqual({});
      expect(human.email).toMatchObject({ isVerified: true });
      const failure = expectFailure(await call("verifyPhone", { userId, verificationCode: "123456" }));
      expect(failure).toMatchObject({ code: 9, errorInfo: { reason: "NO_PENDING_CODE" } });
    });

    it("removes a phone awaiting verification, and its code with it", async () => {
      const { userId, code } = await phoneUser();
      expectOk(await call("removePhone", { userId }));
      expect((await getUser(userId)).human.phone).toEqual({});
      const failure = expectFailure(await call("verifyPhone", { userId, verificationCode: code }));
      expect(failure).toMatchObject({ code: 9, errorInfo: { reason: "NO_PENDING_CODE" } });
    });

    it("answers FailedPrecondition COMMAND-ieJ2e when there is no phone", async () => {
      const { userId } = await emailUser();
      const failure = expectFailure(await call("removePhone", { userId }));
      expect(failure).toMatchObject({ code: 9, errorDetail: { id: "COMMAND-ieJ2e" }, errorInfo: { reason: "CONTACT_NOT_FOUND" } });
    });
  });

  describe("SetEmail", () => {
    it("with return_code answers a code that verifies the new address", async () => {
      const { userId } = await phoneUser();
      const email = uniqueEmail(`set-${protocol}`);
      const set = expectOk(await call("setEmail", { userId, email, returnCode: {} }));
      expect(set.verificationCode).toMatch(/^\d{6}$/);
      expect((await getUser(userId)).human.email).toEqual({ email });

      expectOk(await call("verifyEmail", { userId, verificationCode: set.verificationCode as string }));
      expect((await getUser(userId)).human.email).toEqual({ email, isVerified: true });
    });

    it("with send_code and a url_template delivers the code and the rendered link with user id, org id and code", async () => {
      const { userId, added } = await phoneUser();
      const orgId = (added.details as JsonObject).resourceOwner as string;
      const email = uniqueEmail(`link-${protocol}`);
      const urlTemplate = "https://login.example.com/verify?user={{.UserID}}&org={{.OrgID}}&code={{.Code}}";
      const { result, messages } = await withDeliveries(email, () => call("setEmail", { userId, email, sendCode: { urlTemplate } }));
      expect(expectOk(result)).not.toHaveProperty("verificationCode");
      expect(messages).toHaveLength(1);
      const message = messages[0] as OutgoingMessage;
      expect(message.channel).toBe("email");
      const code = codeIn(message);
      expect(message.text).toContain(`https://login.example.com/verify?user=${userId}&org=${orgId}&code=${code}`);

      expectOk(await call("verifyEmail", { userId, verificationCode: code }));
      expect((await getUser(userId)).human.email).toEqual({ email, isVerified: true });
    });

    it("with send_code and no template delivers a code without a link", async () => {
      const { userId } = await phoneUser();
      const email = uniqueEmail(`plain-${protocol}`);
      const { messages } = await withDeliveries(email, async () => expectOk(await call("setEmail", { userId, email, sendCode: {} })));
      expect(messages).toHaveLength(1);
      expect(messages[0]?.text).not.toContain("http");
      expectOk(await call("verifyEmail", { userId, verificationCode: codeIn(messages[0] as OutgoingMessage) }));
    });

    it("with is_verified marks the address verified without a code", async () => {
      const { userId } = await phoneUser();
      const email = uniqueEmail(`verified-${protocol}`);
      const { result, messages } = await withDeliveries(email, () => call("setEmail", { userId, email, isVerified: true }));
      expect(expectOk(result)).not.toHaveProperty("verificationCode");
      expect(messages).toEqual([]);
      expect((await getUser(userId)).human.email).toEqual({ email, isVerified: true });
      const again = expectFailure(await call("verifyEmail", { userId, verificationCode: "123456" }));
      expect(again).toMatchObject({ code: 9, errorInfo: { reason: "ALREADY_VERIFIED" } });
    });
  });

  describe.each(["resendEmailCode", "sendEmailCode"] as const)("%s", (method) => {
    it("with send_code delivers a fresh code (with the link) for the pending address; only the new code verifies", async () => {
      const { userId, code: oldCode, email, added } = await emailUser();
      const orgId = (added.details as JsonObject).resourceOwner as string;
      const urlTemplate = "https://app.example.com/confirm/{{.UserID}}/{{.OrgID}}?c={{.Code}}";
      const { result, messages } = await withDeliveries(email, () => call(method, { userId, sendCode: { urlTemplate } }));
      expect(expectOk(result)).not.toHaveProperty("verificationCode");
      expect(messages).toHaveLength(1);
      const newCode = codeIn(messages[0] as OutgoingMessage);
      expect(messages[0]?.text).toContain(`https://app.example.com/confirm/${userId}/${orgId}?c=${newCode}`);

      if (newCode !== oldCode) {
        const old = expectFailure(await call("verifyEmail", { userId, verificationCode: oldCode }));
        expect(old).toMatchObject({ code: 3, errorDetail: { id: "COMMAND-eis9R" } });
      }
      expectOk(await call("verifyEmail", { userId, verificationCode: newCode }));
      expect((await getUser(userId)).human.email).toEqual({ email, isVerified: true });
    });

    it("with return_code answers a fresh code; only the new code verifies", async () => {
      const { userId, code: oldCode, email } = await emailUser();
      const { result, messages } = await withDeliveries(email, () => call(method, { userId, returnCode: {} }));
      const newCode = expectOk(result).verificationCode as string;
      expect(newCode).toMatch(/^\d{6}$/);
      expect(messages).toEqual([]);
      if (newCode !== oldCode) {
        expect(expectFailure(await call("verifyEmail", { userId, verificationCode: oldCode })).errorInfo?.reason).toBe(
          "INVALID_VERIFICATION_CODE",
        );
      }
      expectOk(await call("verifyEmail", { userId, verificationCode: newCode }));
    });

    it("answers ALREADY_VERIFIED for a verified address and NO_PENDING_CODE without one", async () => {
      const { userId, code } = await emailUser();
      expectOk(await call("verifyEmail", { userId, verificationCode: code }));
      expect(expectFailure(await call(method, { userId, returnCode: {} }))).toMatchObject({
        code: 9,
        errorInfo: { reason: "ALREADY_VERIFIED" },
      });
      const { userId: phoneOnly } = await phoneUser();
      expect(expectFailure(await call(method, { userId: phoneOnly, returnCode: {} }))).toMatchObject({
        code: 9,
        errorInfo: { reason: "NO_PENDING_CODE" },
      });
    });
  });

  describe("VerifyEmail", () => {
    it("verifies with the right code and reports details", async () => {
      const { userId, code, email } = await emailUser();
      const verified = expectOk(await call("verifyEmail", { userId, verificationCode: code }));
      expect(verified.details).toMatchObject({ sequence: "3" });
      expect(Date.parse((verified.details as JsonObject).changeDate as string)).toBe(server.clock.now().getTime());
      expect((await getUser(userId)).human.email).toEqual({ email, isVerified: true });
    });

    it("answers a wrong code with InvalidArgument COMMAND-eis9R and the attempts left; the right code still verifies", async () => {
      const { userId, code, email } = await emailUser();
      const wrong = code === "000000" ? "000001" : "000000";
      const failure = expectFailure(await call("verifyEmail", { userId, verificationCode: wrong }));
      expect(failure).toMatchObject({
        code: 3,
        message: "Code is invalid (COMMAND-eis9R)",
        errorDetail: { id: "COMMAND-eis9R" },
        errorInfo: { reason: "INVALID_VERIFICATION_CODE", metadata: { attemptsLeft: "4" } },
      });
      if (protocol === "rest") expect(failure.httpStatus).toBe(400);
      expect((await getUser(userId)).human.email).toEqual({ email });
      expectOk(await call("verifyEmail", { userId, verificationCode: code }));
    });
  });

  describe("GetUserByID", () => {
    it("shows an email user with its creation date, the email as username and login name", async () => {
      const createdAt = server.clock.now().getTime();
      const { userId, email, added } = await emailUser();
      server.clock.advance(1_000);
      expectOk(await call("resendEmailCode", { userId, returnCode: {} }));
      const { body, user, human } = await getUser(userId);
      const details = body.details as JsonObject;
      expect(Date.parse(details.creationDate as string)).toBe(createdAt);
      expect(Date.parse(details.changeDate as string)).toBe(createdAt + 1_000);
      expect(details).toMatchObject({ sequence: "3", resourceOwner: (added.details as JsonObject).resourceOwner });
      expect(user).toMatchObject({ userId, username: email, loginNames: [email], preferredLoginName: email, state: "USER_STATE_ACTIVE" });
      expect(human).toMatchObject({ username: email, profile, email: { email } });
      expect(human.phone ?? {}).toEqual({});
    });

    it("uses the user id as username for a phone-only user", async () => {
      const { userId, phone } = await phoneUser();
      const { body, user, human } = await getUser(userId);
      expect(Date.parse((body.details as JsonObject).creationDate as string)).toBe(server.clock.now().getTime());
      expect(user).toMatchObject({ userId, username: userId, preferredLoginName: userId });
      expect(human).toMatchObject({ username: userId, phone: { phone } });
      expect(human.email ?? {}).toEqual({});
    });

    it("answers NotFound USER_NOT_FOUND for an unknown user", async () => {
      const failure = expectFailure(await call("getUserByID", { userId: "404404" }));
      expect(failure).toMatchObject({ code: 5, errorInfo: { reason: "USER_NOT_FOUND" } });
    });
  });

  describe("email addresses", () => {
    it("compare the domain case-insensitively: stored with a lower-case domain, the same address again is NOT_CHANGED", async () => {
      counter++;
      const local = `Ada.${protocol}.${counter}`;
      const added = expectOk(await call("addHumanUser", { profile, email: { email: `${local}@EXAMPLE.com`, returnCode: {} } }));
      const userId = added.userId as string;
      const { user, human } = await getUser(userId);
      expect(human.email).toEqual({ email: `${local}@example.com` });
      expect(user.username).toBe(`${local}@example.com`);

      const sequence = await sequenceOf(userId);
      const same = expectFailure(await call("setEmail", { userId, email: `${local}@example.COM`, returnCode: {} }));
      expect(same).toMatchObject({ code: 9, errorDetail: { id: "COMMAND-Uch5e" }, errorInfo: { reason: "NOT_CHANGED" } });
      expect(await sequenceOf(userId)).toBe(sequence);

      // The local part keeps its case: a different local part is another address.
      expectOk(await call("setEmail", { userId, email: `${local.toLowerCase()}@example.com`, returnCode: {} }));
      expect((await getUser(userId)).human.email).toEqual({ email: `${local.toLowerCase()}@example.com` });
    });

    it("are stored with a lower-case domain by SetEmail too", async () => {
      const { userId } = await phoneUser();
      counter++;
      expectOk(await call("setEmail", { userId, email: `Grace.${counter}@Example.ORG`, isVerified: true }));
      expect((await getUser(userId)).human.email).toEqual({ email: `Grace.${counter}@example.org`, isVerified: true });
      const same = expectFailure(await call("setEmail", { userId, email: `Grace.${counter}@EXAMPLE.org`, isVerified: true }));
      expect(same.errorInfo?.reason).toBe("NOT_CHANGED");
    });
  });

  describe("url_template", () => {
    const urlCharacters =
      "holds a character a URL does not (a space, a line break, a quote, an angle bracket or a non-ASCII character); percent-encode it";
    const plainHost =
      'must begin with https://, a plain host (a name or an IP address, with no user name or password) and "/": https://host/… or https://host:port/…';
    const badTemplates = [
      [
        "an unknown placeholder",
        "https://example.com/verify?u={{.UserID}}&x={{.Unknown}}",
        "unknown placeholder {{.Unknown}}; a template knows {{.UserID}}, {{.OrgID}} and {{.Code}}",
      ],
      [
        "unbalanced braces",
        "https://example.com/verify?code={{.Code}",
        '"{{" or "}}" outside a placeholder; a template knows {{.UserID}}, {{.OrgID}} and {{.Code}}',
      ],
      [
        "a stray closing brace pair",
        "https://example.com/verify?code=.Code}}",
        '"{{" or "}}" outside a placeholder; a template knows {{.UserID}}, {{.OrgID}} and {{.Code}}',
      ],
      ["no URL after rendering", "verify/{{.Code}}", "is not an absolute URL once its placeholders are filled in"],
      [
        "a plain-http link",
        "http://example.com/verify?code={{.Code}}",
        "the link must be https (http only to localhost, 127.0.0.1 or [::1], for development)",
      ],
      ["a line break, which would add a line to the message", "https://example.com/{{.Code}}\r\nBcc: a@b.example", urlCharacters],
      ["a space or a quote, which end the link in a mail reader", 'https://example.com/a b"><img src=x>{{.Code}}', urlCharacters],
      [
        "a percent sign that encodes nothing",
        "https://example.com/%zz{{.Code}}",
        'holds a "%" that is not followed by two hexadecimal digits; write a percent sign as %25',
      ],
      ["no // before the host", "https:example.com/{{.Code}}", plainHost],
      ["a single / before the host", "https:/example.com/{{.Code}}", plainHost],
      ["a user name and password", "https://user:pass@example.com/{{.Code}}", plainHost],
      ["a host behind an encoded slash and an @, where the browser goes", "https://good.example%2f@evil.example/{{.Code}}", plainHost],
      ["a host ended by # and followed by @ and another host", "https://evil.example#@good.example/{{.Code}}", plainHost],
      ["a number a browser reads as another host", "https://2130706433/{{.Code}}", "a browser reads the host 2130706433 as 127.0.0.1; write it so"],
    ] as const;

    it.each(badTemplates)("with %s is refused with InvalidArgument DOMAIN-oGh5e, saying why, on every RPC that takes one, changing nothing", async (_name, urlTemplate, detail) => {
      const { userId, email } = await emailUser();
      const sequence = await sequenceOf(userId);
      const requests: [MethodName, JsonObject][] = [
        ["setEmail", { userId, email: uniqueEmail(`tpl-${protocol}`), sendCode: { urlTemplate } }],
        ["sendEmailCode", { userId, sendCode: { urlTemplate } }],
        ["resendEmailCode", { userId, sendCode: { urlTemplate } }],
        ["addHumanUser", { profile, email: { email: uniqueEmail(`tpl-${protocol}`), sendCode: { urlTemplate } } }],
      ];
      const mark = server.delivered.length;
      for (const [method, request] of requests) {
        const failure = expectFailure(await call(method, request));
        expect(failure, method).toMatchObject({ code: 3, errorDetail: { id: "DOMAIN-oGh5e" }, errorInfo: { metadata: { detail } } });
        if (protocol === "rest") expect(failure.httpStatus, method).toBe(400);
      }
      await server.outbox.runOnce();
      expect(server.delivered.slice(mark).filter((message) => message.destination === email)).toEqual([]);
      expect(await sequenceOf(userId)).toBe(sequence);
    });

    it("with a port, an encoded character, an @ in the path and a fragment is mailed as written", async () => {
      const { userId, email } = await emailUser();
      const urlTemplate = "https://App.example.com:8443/u/@{{.UserID}}/a%2Fb?c={{.Code}}#@top";
      const { messages } = await withDeliveries(email, async () => expectOk(await call("sendEmailCode", { userId, sendCode: { urlTemplate } })));
      const code = codeIn(messages[0] as OutgoingMessage);
      expect(messages[0]?.text).toContain(`https://App.example.com:8443/u/@${userId}/a%2Fb?c=${code}#@top`);
    });
  });
});
