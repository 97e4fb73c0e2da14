// The contact lifecycle table in README.md, row by row, for phone and email alike: for each transition the
// answer, what GetUserByID shows afterwards, and exactly the events the call appended to the user's stream (read
// from the SQLite file through a second handle). One protocol is enough here; flows.test.ts covers all of them.
import type { JsonObject } from "@bufbuild/protobuf";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { OutgoingMessage } from "../../src/domain/outgoing-message.js";
import { type EventReader, openEventReader } from "../helpers/events.js";
import { type MethodName, protocolClient, expectFailure, expectOk } from "../helpers/protocol-clients.js";
import { type TestServer, startTestServer } from "../helpers/test-server.js";

// Above 10, so that two codes can die in a row without a lockout.
const maxConsecutiveFailures = 12;
const lockoutMs = 60_000;
const codeTtlMs = 10 * 60_000;

let server: TestServer;
let reader: EventReader;
beforeAll(async () => {
  server = await startTestServer(["--max-consecutive-failures", String(maxConsecutiveFailures), "--failure-lockout", "60s"]);
  reader = openEventReader(server.config.database);
});
afterAll(async () => {
  reader?.close();
  await server.close();
});

const profile = { givenName: "Grace", familyName: "Hopper" };
const call = (method: MethodName, request: JsonObject) => protocolClient("connect-json", server.url, server.adminToken).call(method, request);



let counter = 0;
const uniquePhone = () => `+4178${String(1_000_000 + ++counter).slice(-7)}`;
const uniqueEmail = () => `grace-${++counter}@example.com`;

type Channel = "phone" | "email";

const channels = {
  phone: {
    set: "setPhone",
    resend: "resendPhoneCode",
    verify: "verifyPhone",
    pendingField: "pendingPhone",
    addedCode: "phoneCode",
    other: "email",
    fresh: uniquePhone,
  },
  email: {
    set: "setEmail",
    resend: "resendEmailCode",
    verify: "verifyEmail",
    pendingField: "pendingEmail",
    addedCode: "emailCode",
    other: "phone",
    fresh: uniqueEmail,
  },
} as const;

const freshValue = (channel: Channel): string => channels[channel].fresh();

/** A code that is certainly not `code`. */
const wrongFor = (code: string) => (code === "000000" ? "111111" : "000000");

const codePattern = /verification code is (\d{6})\b/;
/** The ids ZITADEL gives a resend with no code pending ("Code is empty"). */
const zitadelResendId = { phone: "PHONE-5xrra88eq8", email: "EMAIL-5w5ilin4yt" };

describe.each(["phone", "email"] as const)("%s lifecycle", (ch) => {
  const rpc = channels[ch];
  const ev = (action: string) => `${ch}.${action}`;

  /** What GetUserByID shows for the contact, in its wire shape (proto3 JSON leaves out false and ""). */
  const shown = (value: string, isVerified: boolean, pending?: string): JsonObject => ({
    [ch]: value,
    ...(isVerified ? { isVerified: true } : {}),
    ...(pending ? { [rpc.pendingField]: pending } : {}),
  });

  async function contactOf(userId: string): Promise<JsonObject> {
    const body = expectOk(await call("getUserByID", { userId }));
    return ((body.user as JsonObject).human as JsonObject)[ch] as JsonObject;
  }

  /** Calls and returns the answer and the short types of the events it appended. */
  async function act(method: MethodName, request: JsonObject & { userId: string }) {
    const result = await call(method, request);
    return { result, events: await reader.appended(request.userId) };
  }

  async function create(contact: JsonObject | undefined) {
    const otherValue = freshValue(rpc.other);
    const added = expectOk(
      await call("addHumanUser", {
        profile,
        [rpc.other]: { [rpc.other]: otherValue, isVerified: true },
        ...(contact ? { [ch]: contact } : {}),
      }),
    );
    const userId = added.userId as string;
    return { userId, added, events: await reader.appended(userId) };
  }

  /** none: a user whose other contact is verified and who has no address on this channel. */
  const userWithout = async () => (await create(undefined)).userId;

  /** code pending: the address and its returned code. */
  async function userPending() {
    const value = freshValue(ch);
    const { userId, added } = await create({ [ch]: value, returnCode: {} });
    return { userId, value, code: added[rpc.addedCode] as string };
  }

  /** verified. */
  async function userVerified() {
    const value = freshValue(ch);
    const { userId } = await create({ [ch]: value, isVerified: true });
    return { userId, value };
  }

  /** The codes delivered to `destination` since `from`; a notice that a verified address was replaced is not one. */
  async function deliveredTo(destination: string, from: number, purpose: OutgoingMessage["purpose"] = "code"): Promise<OutgoingMessage[]> {
    await server.outbox.runOnce();
    return server.delivered.slice(from).filter((message) => message.destination === destination && message.purpose === purpose);
  }

  async function killCode(userId: string, code: string) {
    for (let i = 0; i < 5; i++) {
      const { result } = await act(rpc.verify, { userId, verificationCode: wrongFor(code) });
      expect(expectFailure(result).errorInfo?.reason).toBe("INVALID_VERIFICATION_CODE");
    }
  }

  describe("from none", () => {
    it.each([
      ["send_code", { sendCode: {} }],
      ["return_code", { returnCode: {} }],
    ])("Set with %s: changed + code.added → code pending", async (kind, verification) => {
      const userId = await userWithout();
      const value = freshValue(ch);
      const mark = server.delivered.length;
      const { result, events } = await act(rpc.set, { userId, [ch]: value, ...verification });
      const body = expectOk(result);
      expect(events).toEqual([ev("changed"), ev("code.added")]);
      expect(await contactOf(userId)).toEqual(shown(value, false));
      const messages = await deliveredTo(value, mark);
      const code = kind === "return_code" ? (body.verificationCode as string) : codePattern.exec(messages[0]?.text ?? "")?.[1];
      expect(messages).toHaveLength(kind === "send_code" ? 1 : 0);
      expect(code).toMatch(/^\d{6}$/);
      expectOk((await act(rpc.verify, { userId, verificationCode: code as string })).result);
    });

    it("AddHumanUser with an address: the address inside human.added + code.added → code pending", async () => {
      const value = freshValue(ch);
      const { userId, added, events } = await create({ [ch]: value, returnCode: {} });
      expect(events.filter((type) => !type.startsWith(rpc.other))).toEqual(["added", ev("code.added")]);
      expect(added[rpc.addedCode]).toMatch(/^\d{6}$/);
      const [addedEvent] = await reader.events(userId);
      expect(addedEvent?.payload).toMatchObject({ [ch]: value });
      expect(await contactOf(userId)).toEqual(shown(value, false));
    });

    it("AddHumanUser with is_verified: human.added + verified → verified", async () => {
      const value = freshValue(ch);
      const { userId, added, events } = await create({ [ch]: value, isVerified: true });
      expect(events.filter((type) => !type.startsWith(rpc.other))).toEqual(["added", ev("verified")]);
      expect(added).not.toHaveProperty(rpc.addedCode);
      expect(await contactOf(userId)).toEqual(shown(value, true));
    });

    it("Set with is_verified: changed + verified → verified", async () => {
      const userId = await userWithout();
      const value = freshValue(ch);
      const { result, events } = await act(rpc.set, { userId, [ch]: value, isVerified: true });
      expect(expectOk(result)).not.toHaveProperty("verificationCode");
      expect(events).toEqual([ev("changed"), ev("verified")]);
      expect(await contactOf(userId)).toEqual(shown(value, true));
    });

    it("Verify: no event, FailedPrecondition NO_PENDING_CODE", async () => {
      const userId = await userWithout();
      const { result, events } = await act(rpc.verify, { userId, verificationCode: "123456" });
      expect(expectFailure(result)).toMatchObject({ code: 9, errorInfo: { reason: "NO_PENDING_CODE" } });
      expect(events).toEqual([]);
    });

    it("Resend: no event, FailedPrecondition NO_PENDING_CODE", async () => {
      const userId = await userWithout();
      const { result, events } = await act(rpc.resend, { userId, returnCode: {} });
      // ZITADEL's id, so that its clients recognise the answer (noted by a trial porting a ZITADEL backend).
      expect(expectFailure(result)).toMatchObject({ code: 9, errorInfo: { reason: "NO_PENDING_CODE" }, errorDetail: { id: zitadelResendId[ch] } });
      expect(events).toEqual([]);
    });

    if (ch === "phone") {
      it("RemovePhone: no event, FailedPrecondition CONTACT_NOT_FOUND COMMAND-ieJ2e", async () => {
        const userId = await userWithout();
        const { result, events } = await act("removePhone", { userId });
        expect(expectFailure(result)).toMatchObject({
          code: 9,
          errorDetail: { id: "COMMAND-ieJ2e" },
          errorInfo: { reason: "CONTACT_NOT_FOUND" },
        });
        expect(events).toEqual([]);
      });
    }
  });

  describe("from code pending, expired or dead", () => {
    it("Verify with the right code: verified → verified", async () => {
      const { userId, value, code } = await userPending();
      const { result, events } = await act(rpc.verify, { userId, verificationCode: code });
      expectOk(result);
      expect(events).toEqual([ev("verified")]);
      expect(await contactOf(userId)).toEqual(shown(value, true));
    });

    it("Verify with a wrong code: verification.failed, INVALID_VERIFICATION_CODE counting down; the 5th kills the code", async () => {
      const { userId, value, code } = await userPending();
      for (const left of ["4", "3", "2", "1", "0"]) {
        const { result, events } = await act(rpc.verify, { userId, verificationCode: wrongFor(code) });
        expect(expectFailure(result)).toMatchObject({
          code: 3,
          errorDetail: { id: "COMMAND-eis9R" },
          errorInfo: { reason: "INVALID_VERIFICATION_CODE", metadata: { attemptsLeft: left } },
        });
        expect(events).toEqual([ev("verification.failed")]);
      }
      // code dead: any code, the right one included, is refused without an event, and the state stays dead.
      for (const attempt of [code, wrongFor(code)]) {
        const { result, events } = await act(rpc.verify, { userId, verificationCode: attempt });
        expect(expectFailure(result)).toMatchObject({ code: 8, errorInfo: { reason: "MAX_ATTEMPTS_REACHED" } });
        expect(events).toEqual([]);
      }
      expect(await contactOf(userId)).toEqual(shown(value, false));
    });

    it("time passes: the code expires; Verify is refused without an event, CODE_EXPIRED, and stays expired", async () => {
      const { userId, value, code } = await userPending();
      server.clock.advance(codeTtlMs);
      for (const attempt of [code, wrongFor(code)]) {
        const { result, events } = await act(rpc.verify, { userId, verificationCode: attempt });
        expect(expectFailure(result)).toMatchObject({ code: 9, errorInfo: { reason: "CODE_EXPIRED" } });
        expect(events).toEqual([]);
      }
      expect(await contactOf(userId)).toEqual(shown(value, false));
    });

    it.each(["pending", "expired", "dead"] as const)(
      "Resend from code %s: code.added, a fresh code that verifies, the old one does not",
      async (state) => {
        const { userId, value, code: oldCode } = await userPending();
        if (state === "expired") server.clock.advance(codeTtlMs + 1);
        if (state === "dead") await killCode(userId, oldCode);
        await reader.appended(userId);
        const { result, events } = await act(rpc.resend, { userId, returnCode: {} });
        const newCode = expectOk(result).verificationCode as string;
        expect(events).toEqual([ev("code.added")]);
        if (newCode !== oldCode) {
          const old = await act(rpc.verify, { userId, verificationCode: oldCode });
          expect(expectFailure(old.result).errorInfo).toMatchObject({ reason: "INVALID_VERIFICATION_CODE", metadata: { attemptsLeft: "4" } });
        }
        expectOk((await act(rpc.verify, { userId, verificationCode: newCode })).result);
        expect(await contactOf(userId)).toEqual(shown(value, true));
      },
    );

    it("Resend with send_code delivers the fresh code to the pending address", async () => {
      const { userId, value } = await userPending();
      const mark = server.delivered.length;
      const { result, events } = await act(rpc.resend, { userId, sendCode: {} });
      expect(expectOk(result)).not.toHaveProperty("verificationCode");
      expect(events).toEqual([ev("code.added")]);
      const messages = await deliveredTo(value, mark);
      expect(messages).toHaveLength(1);
      expect(messages[0]?.channel).toBe(ch);
      const code = codePattern.exec(messages[0]?.text ?? "")?.[1] as string;
      expectOk((await act(rpc.verify, { userId, verificationCode: code })).result);
    });

    it("Resend after a dead code gives fresh attempts (5 more wrong allowed) and the old code is dead", async () => {
      const { userId, value, code: first } = await userPending();
      await killCode(userId, first);
      expect(expectFailure(await call(rpc.verify, { userId, verificationCode: first })).errorInfo?.reason).toBe("MAX_ATTEMPTS_REACHED");
      await reader.appended(userId);

      const second = expectOk(await call(rpc.resend, { userId, returnCode: {} })).verificationCode as string;
      expect(await reader.appended(userId)).toEqual([ev("code.added")]);
      const attemptsLeft: string[] = [];
      for (const attempt of [first, wrongFor(second), wrongFor(second), wrongFor(second), wrongFor(second)]) {
        if (attempt === second) continue; // the old code happens to equal the new one: one in a million
        const failure = expectFailure(await call(rpc.verify, { userId, verificationCode: attempt }));
        attemptsLeft.push(failure.errorInfo?.metadata.attemptsLeft ?? failure.errorInfo?.reason ?? "");
      }
      expect(attemptsLeft).toEqual(["4", "3", "2", "1", "0"].slice(0, attemptsLeft.length));
      if (attemptsLeft.length === 5) {
        expect(expectFailure(await call(rpc.verify, { userId, verificationCode: second })).errorInfo?.reason).toBe(
          "MAX_ATTEMPTS_REACHED",
        );
        const third = expectOk(await call(rpc.resend, { userId, returnCode: {} })).verificationCode as string;
        expectOk(await call(rpc.verify, { userId, verificationCode: third }));
      } else {
        expectOk(await call(rpc.verify, { userId, verificationCode: second }));
      }
      expect(await contactOf(userId)).toEqual(shown(value, true));
    });

    it.each(["pending", "expired", "dead"] as const)(
      "Set another address from code %s: changed + code.added → code pending for the new address only",
      async (state) => {
        const { userId, code: oldCode } = await userPending();
        if (state === "expired") server.clock.advance(codeTtlMs + 1);
        if (state === "dead") await killCode(userId, oldCode);
        await reader.appended(userId);
        const next = freshValue(ch);
        const { result, events } = await act(rpc.set, { userId, [ch]: next, returnCode: {} });
        const newCode = expectOk(result).verificationCode as string;
        expect(events).toEqual([ev("changed"), ev("code.added")]);
        expect(await contactOf(userId)).toEqual(shown(next, false));
        if (newCode !== oldCode) {
          expect(expectFailure(await call(rpc.verify, { userId, verificationCode: oldCode })).errorInfo?.reason).toBe(
            "INVALID_VERIFICATION_CODE",
          );
        }
        expectOk(await call(rpc.verify, { userId, verificationCode: newCode }));
        expect(await contactOf(userId)).toEqual(shown(next, true));
      },
    );
  });

  describe("Set the address it already has", () => {
    it("pending: no event, FailedPrecondition NOT_CHANGED COMMAND-Uch5e, even when the code expired", async () => {
      const { userId, value, code } = await userPending();
      server.clock.advance(codeTtlMs + 1);
      await reader.appended(userId);
      const { result, events } = await act(rpc.set, { userId, [ch]: value, returnCode: {} });
      expect(expectFailure(result)).toMatchObject({ code: 9, errorDetail: { id: "COMMAND-Uch5e" }, errorInfo: { reason: "NOT_CHANGED" } });
      expect(events).toEqual([]);
      expect(expectFailure(await call(rpc.verify, { userId, verificationCode: code })).errorInfo?.reason).toBe("CODE_EXPIRED");
    });

    it("verified: no event, NOT_CHANGED", async () => {
      const { userId, value } = await userVerified();
      for (const verification of [{ returnCode: {} }, { isVerified: true }, { sendCode: {} }] as JsonObject[]) {
        const { result, events } = await act(rpc.set, { userId, [ch]: value, ...verification });
        expect(expectFailure(result).errorInfo?.reason).toBe("NOT_CHANGED");
        expect(events).toEqual([]);
      }
    });

    it("verified with a change pending: the pending address again is NOT_CHANGED", async () => {
      const { userId, value } = await userVerified();
      const next = freshValue(ch);
      expectOk(await call(rpc.set, { userId, [ch]: next, returnCode: {} }));
      await reader.appended(userId);
      const { result, events } = await act(rpc.set, { userId, [ch]: next, returnCode: {} });
      expect(expectFailure(result).errorInfo?.reason).toBe("NOT_CHANGED");
      expect(events).toEqual([]);
      expect(await contactOf(userId)).toEqual(shown(value, true, next));
    });
  });

  describe("from verified", () => {
    it("Verify: no event, ALREADY_VERIFIED", async () => {
      const { userId, value } = await userVerified();
      const { result, events } = await act(rpc.verify, { userId, verificationCode: "123456" });
      expect(expectFailure(result)).toMatchObject({ code: 9, errorInfo: { reason: "ALREADY_VERIFIED" } });
      expect(events).toEqual([]);
      expect(await contactOf(userId)).toEqual(shown(value, true));
    });

    it("Resend: no event, ALREADY_VERIFIED", async () => {
      const { userId } = await userVerified();
      for (const verification of [{ returnCode: {} }, { sendCode: {} }] as JsonObject[]) {
        const { result, events } = await act(rpc.resend, { userId, ...verification });
        expect(expectFailure(result)).toMatchObject({
          code: 9,
          errorInfo: { reason: "ALREADY_VERIFIED" },
          errorDetail: { id: zitadelResendId[ch], message: `Code is empty; the ${ch} is already verified` },
        });
        expect(events).toEqual([]);
      }
    });

    it("Set a new address with return_code: changed + code.added; the old address still counts until the new one is verified", async () => {
      const { userId, value: old } = await userVerified();
      const usernameBefore = ((expectOk(await call("getUserByID", { userId })).user as JsonObject).username) as string;
      const next = freshValue(ch);
      const { result, events } = await act(rpc.set, { userId, [ch]: next, returnCode: {} });
      const code = expectOk(result).verificationCode as string;
      expect(events).toEqual([ev("changed"), ev("code.added")]);
      expect(events).not.toContain(ev("verified"));
      expect(await contactOf(userId)).toEqual(shown(old, true, next));

      // A wrong code for the new address does not touch the old one.
      const wrong = await act(rpc.verify, { userId, verificationCode: wrongFor(code) });
      expect(expectFailure(wrong.result).errorInfo?.reason).toBe("INVALID_VERIFICATION_CODE");
      expect(wrong.events).toEqual([ev("verification.failed")]);
      expect(await contactOf(userId)).toEqual(shown(old, true, next));

      const verified = await act(rpc.verify, { userId, verificationCode: code });
      expectOk(verified.result);
      expect(verified.events).toEqual([ev("verified")]);
      expect(await contactOf(userId)).toEqual(shown(next, true));
      const [, last] = (await reader.events(userId)).slice(-2);
      expect(last?.payload).toEqual({ value: next });
      // The username is set once at creation; a contact change does not rename the user.
      expect((expectOk(await call("getUserByID", { userId })).user as JsonObject).username).toBe(usernameBefore);
    });

    it("Set a new address with send_code: the code goes to the new address, not the verified one", async () => {
      const { userId, value: old } = await userVerified();
      const next = freshValue(ch);
      const mark = server.delivered.length;
      const { result, events } = await act(rpc.set, { userId, [ch]: next, sendCode: {} });
      expectOk(result);
      expect(events).toEqual([ev("changed"), ev("code.added")]);
      expect(await deliveredTo(old, mark)).toEqual([]);
      expect(await deliveredTo(old, mark, "contact-changed")).toHaveLength(1);
      const messages = await deliveredTo(next, mark);
      expect(messages).toHaveLength(1);
      const code = codePattern.exec(messages[0]?.text ?? "")?.[1] as string;
      expect(await contactOf(userId)).toEqual(shown(old, true, next));
      expectOk(await call(rpc.verify, { userId, verificationCode: code }));
      expect(await contactOf(userId)).toEqual(shown(next, true));
    });

    it("Set a new address with is_verified: changed + verified → the new address verified", async () => {
      const { userId } = await userVerified();
      const next = freshValue(ch);
      const { result, events } = await act(rpc.set, { userId, [ch]: next, isVerified: true });
      expectOk(result);
      expect(events).toEqual([ev("changed"), ev("verified")]);
      expect(await contactOf(userId)).toEqual(shown(next, true));
    });
  });

  describe("from verified, change pending", () => {
    async function userChanging() {
      const { userId, value: old } = await userVerified();
      const next = freshValue(ch);
      const code = expectOk(await call(rpc.set, { userId, [ch]: next, returnCode: {} })).verificationCode as string;
      await reader.appended(userId);
      return { userId, old, next, code };
    }

    it.each([
      ["return_code", { returnCode: {} }],
      ["send_code", { sendCode: {} }],
      ["is_verified", { isVerified: true }],
    ])("Set the verified address again (%s): only changed → verified, change cancelled", async (_kind, verification) => {
      const { userId, old, code } = await userChanging();
      const mark = server.delivered.length;
      const { result, events } = await act(rpc.set, { userId, [ch]: old, ...verification });
      const body = expectOk(result);
      expect(await contactOf(userId)).toEqual(shown(old, true));
      // The pending code died with the change.
      expect(expectFailure(await call(rpc.verify, { userId, verificationCode: code })).errorInfo?.reason).toBe("ALREADY_VERIFIED");
      await reader.appended(userId);
      // Spec: the answer is details only, the event is phone.changed (email.changed) alone, nothing is sent.
      expect.soft(events, "events appended").toEqual([ev("changed")]);
      expect.soft(body, "answer").not.toHaveProperty("verificationCode");
      expect.soft(await deliveredTo(old, mark), "messages sent").toEqual([]);
    });

    it("Resend with the new address's code dead: code.added, a fresh code for the new address", async () => {
      const { userId, old, next, code } = await userChanging();
      await killCode(userId, code);
      expect(expectFailure(await call(rpc.verify, { userId, verificationCode: code })).errorInfo?.reason).toBe("MAX_ATTEMPTS_REACHED");
      await reader.appended(userId);
      const mark = server.delivered.length;
      const { result, events } = await act(rpc.resend, { userId, sendCode: {} });
      expectOk(result);
      expect(events).toEqual([ev("code.added")]);
      expect(await deliveredTo(old, mark)).toEqual([]);
      const messages = await deliveredTo(next, mark);
      expect(messages).toHaveLength(1);
      expect(await contactOf(userId)).toEqual(shown(old, true, next));
      expectOk(await call(rpc.verify, { userId, verificationCode: codePattern.exec(messages[0]?.text ?? "")?.[1] as string }));
      expect(await contactOf(userId)).toEqual(shown(next, true));
    });

    it("Set a third address: changed + code.added, replacing the pending one", async () => {
      const { userId, old, code } = await userChanging();
      const third = freshValue(ch);
      const { result, events } = await act(rpc.set, { userId, [ch]: third, returnCode: {} });
      const newCode = expectOk(result).verificationCode as string;
      expect(events).toEqual([ev("changed"), ev("code.added")]);
      expect(await contactOf(userId)).toEqual(shown(old, true, third));
      if (newCode !== code) {
        expect(expectFailure(await call(rpc.verify, { userId, verificationCode: code })).errorInfo?.reason).toBe(
          "INVALID_VERIFICATION_CODE",
        );
      }
      expectOk(await call(rpc.verify, { userId, verificationCode: newCode }));
      expect(await contactOf(userId)).toEqual(shown(third, true));
    });
  });

  if (ch === "phone") {
    describe("RemovePhone from any state with an address", () => {
      it.each(["pending", "verified", "verified with a change pending"] as const)(
        "%s: removed → none",
        async (state) => {
          const { userId, code } =
            state === "pending"
              ? await userPending()
              : { ...(await userVerified()), code: undefined as string | undefined };
          let pendingCode = code;
          if (state === "verified with a change pending") {
            pendingCode = expectOk(await call("setPhone", { userId, phone: freshValue(ch), returnCode: {} })).verificationCode as string;
          }
          await reader.appended(userId);
          const { result, events } = await act("removePhone", { userId });
          expectOk(result);
          expect(events).toEqual(["phone.removed"]);
          expect(await contactOf(userId)).toEqual({});
          const after = await act("verifyPhone", { userId, verificationCode: pendingCode ?? "123456" });
          expect(expectFailure(after.result).errorInfo?.reason).toBe("NO_PENDING_CODE");
          // none again: a new number starts over.
          const value = freshValue(ch);
          const again = expectOk(await call("setPhone", { userId, phone: value, returnCode: {} }));
          expectOk(await call("verifyPhone", { userId, verificationCode: again.verificationCode as string }));
          expect(await contactOf(userId)).toEqual(shown(value, true));
        },
      );
    });
  }

  describe("locked: the consecutive-failure ceiling", () => {
    /** Wrong codes across resends until the contact reaches the ceiling; returns a fresh, live code. */
    async function reachCeiling(userId: string, firstCode: string): Promise<string> {
      let code = firstCode;
      for (let wrong = 0; wrong < maxConsecutiveFailures; wrong++) {
        if (wrong > 0 && wrong % 5 === 0) code = await resend(userId);
        await guessWrong(userId, code);
      }
      return resend(userId);
    }

    async function resend(userId: string): Promise<string> {
      return expectOk(await call(rpc.resend, { userId, returnCode: {} })).verificationCode as string;
    }

    /** The refusal of a locked contact, checked to be one, with its wait in seconds. */
    async function lockedFor(userId: string, code: string): Promise<number> {
      const refusal = expectFailure(await call(rpc.verify, { userId, verificationCode: code }));
      expect(refusal).toMatchObject({ code: 8, errorInfo: { reason: "TOO_MANY_FAILURES" } });
      return Number(refusal.errorInfo?.metadata.retryAfterSeconds);
    }

    async function guessWrong(userId: string, code: string): Promise<void> {
      const failure = expectFailure(await call(rpc.verify, { userId, verificationCode: wrongFor(code) }));
      expect(failure.errorInfo?.reason).toBe("INVALID_VERIFICATION_CODE");
    }

    it(`wrong codes across resends reaching ${maxConsecutiveFailures} lock verification for the lockout; a resend does not reset it`, async () => {
      const { userId, value, code: first } = await userPending();
      const second = await reachCeiling(userId, first);
      await reader.appended(userId);

      // Locked: even the right code is refused, without an event, and told when to retry, counted from the last wrong code.
      expect(await lockedFor(userId, second)).toBe(lockoutMs / 1000);
      expect(await reader.appended(userId)).toEqual([]);

      // A resend issues a code but does not reset the count.
      const resent = await act(rpc.resend, { userId, returnCode: {} });
      const third = expectOk(resent.result).verificationCode as string;
      expect(resent.events).toEqual([ev("code.added")]);
      expect(await lockedFor(userId, third)).toBe(lockoutMs / 1000);
      expect(await reader.appended(userId)).toEqual([]);

      // Halfway through: still locked, and a refusal neither extends the lock nor uses up the code.
      server.clock.advance(lockoutMs / 2);
      expect(await lockedFor(userId, third)).toBe(lockoutMs / 2000);
      expect(await lockedFor(userId, wrongFor(third))).toBe(lockoutMs / 2000);

      // Past the lockout the right code verifies.
      server.clock.advance(lockoutMs / 2);
      await reader.appended(userId);
      const verified = await act(rpc.verify, { userId, verificationCode: third });
      expectOk(verified.result);
      expect(verified.events).toEqual([ev("verified")]);
      expect(await contactOf(userId)).toEqual(shown(value, true));
    });

    it("after a lockout each wrong code locks again, twice as long as the lockout before: 1, 2, 4 lockouts", async () => {
      const { userId, code: first } = await userPending();
      let code = await reachCeiling(userId, first);
      let wait = lockoutMs;
      expect(await lockedFor(userId, code)).toBe(wait / 1000);
      for (const doubled of [2 * lockoutMs, 4 * lockoutMs]) {
        server.clock.advance(wait - 1_000);
        expect(await lockedFor(userId, code), "a second before the end").toBe(1);
        server.clock.advance(1_000);
        code = await resend(userId);
        await guessWrong(userId, code);
        wait = doubled;
        expect(await lockedFor(userId, code)).toBe(wait / 1000);
      }
    });

    it("waiting out a lockout, even a quiet day, no longer buys another round of guesses: one wrong code, locked again", async () => {
      const { userId, code: first } = await userPending();
      await reachCeiling(userId, first);
      server.clock.advance(24 * 60 * lockoutMs);
      const code = await resend(userId);
      await guessWrong(userId, code);
      expect(await lockedFor(userId, code)).toBe((2 * lockoutMs) / 1000);
    });

    it("a success resets the count and the escalation: the next ceiling locks for one lockout again", async () => {
      const { userId, code: first } = await userPending();
      let code = await reachCeiling(userId, first);
      server.clock.advance(lockoutMs);
      await guessWrong(userId, code);
      server.clock.advance(2 * lockoutMs);
      code = await resend(userId);
      expectOk(await call(rpc.verify, { userId, verificationCode: code }));

      const next = expectOk(await call(rpc.set, { userId, [ch]: freshValue(ch), returnCode: {} })).verificationCode as string;
      code = await reachCeiling(userId, next);
      expect(await lockedFor(userId, code)).toBe(lockoutMs / 1000);
    });

    it("counts per contact: the other contact of a locked user still verifies", async () => {
      const value = freshValue(ch);
      const otherValue = freshValue(rpc.other);
      const added = expectOk(
        await call("addHumanUser", { profile, [ch]: { [ch]: value, returnCode: {} }, [rpc.other]: { [rpc.other]: otherValue, returnCode: {} } }),
      );
      const userId = added.userId as string;
      const code = await reachCeiling(userId, added[rpc.addedCode] as string);
      expect(await lockedFor(userId, code)).toBe(lockoutMs / 1000);
      const other = channels[rpc.other];
      expectOk(await call(other.verify, { userId, verificationCode: added[other.addedCode] as string }));
    });
  });
});

// ZITADEL's messages: a phone or email call on a user it does not find says the contact was not found.
describe("unknown user", () => {
  const userNotFound = "User could not be found (QUERY-Dfbg2)";
  const phoneNotFound = "Phone not found (COMMAND-ieJ2e)";
  const emailNotFound = "Email not found (COMMAND-ieJ2e)";
  it.each<[MethodName, JsonObject, string]>([
    ["getUserByID", {}, userNotFound],
    ["setPhone", { phone: "+41761234567", returnCode: {} }, phoneNotFound],
    ["resendPhoneCode", { returnCode: {} }, phoneNotFound],
    ["verifyPhone", { verificationCode: "123456" }, phoneNotFound],
    ["removePhone", {}, phoneNotFound],
    ["setEmail", { email: "nobody@example.com", returnCode: {} }, emailNotFound],
    ["resendEmailCode", { returnCode: {} }, emailNotFound],
    ["sendEmailCode", { returnCode: {} }, emailNotFound],
    ["verifyEmail", { verificationCode: "123456" }, emailNotFound],
  ])("%s: no event, NotFound USER_NOT_FOUND, with ZITADEL's message", async (method, request, message) => {
    const userId = "987654321";
    const failure = expectFailure(await call(method, { userId, ...request }));
    expect(failure).toMatchObject({ code: 5, message, errorInfo: { reason: "USER_NOT_FOUND" } });
    expect(await reader.events(userId)).toEqual([]);
  });
});
