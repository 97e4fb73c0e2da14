// Property: whatever sequence of calls arrives, over whichever protocols, the stored projection of every user is
// exactly the fold of its events, the events are numbered 1..n without gaps, and GetUserByID shows that state.
// Random sequences come from a seeded PRNG; a failure names its seed, and
//   VERIFYD_PROPERTY_SEED=<seed> npx vitest run test/e2e/projection-property.test.ts
// runs that one sequence again. VERIFYD_PROPERTY_RUNS changes how many sequences run (30 by default);
// VERIFYD_PROPERTY_LOG=1 prints every sequence's calls.
//
// Besides the projection, each call's answer is checked against the spec (the contact lifecycle in README.md) decided on the
// state before the call: the driver knows every code it was given or that was delivered, so it knows when the right
// code must verify and which refusal each other attempt must get.
import type { JsonObject } from "@bufbuild/protobuf";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FailurePolicy } from "../../src/domain/contact-decisions.js";
import type { ContactState, HumanUserState } from "../../src/domain/user-state.js";
import { replay } from "../../src/domain/user-state.js";
import { type EventReader, openEventReader } from "../helpers/events.js";
import { mulberry32 } from "../helpers/prng.js";
import { type CallResult, type MethodName, type ProtocolClient, type ProtocolName, allProtocols, protocolClient } from "../helpers/protocol-clients.js";
import { type TestServer, startTestServer } from "../helpers/test-server.js";

const runs = Number(process.env.VERIFYD_PROPERTY_RUNS ?? 30);
const fixedSeed = process.env.VERIFYD_PROPERTY_SEED;
const seeds = fixedSeed ? [Number(fixedSeed)] : Array.from({ length: runs }, (_, i) => 0x5eed_0000 + i * 7919);

// A low ceiling and short lockout so that lockouts, and their end, happen within a sequence.
const lockoutMs = 3 * 60_000;
const codeTtlMs = 10 * 60_000;
const maxAttempts = 5;

let server: TestServer;
let reader: EventReader;
let policy: FailurePolicy;
const clients = new Map<ProtocolName, ProtocolClient>();

beforeAll(async () => {
  // Limits out of reach: they have their own tests, and this one is about the state machine and the projection.
  server = await startTestServer([
    "--max-consecutive-failures",
    "6",
    "--failure-lockout",
    "3m",
    ...["--send-cooldown", "0s", "--sends-per-destination-10m", "1000000", "--sends-per-destination-day", "1000000"],
    ...["--sends-per-organization-hour", "1000000", "--sends-per-caller-hour", "1000000", "--verifications-per-user-hour", "1000000"],
  ]);
  reader = openEventReader(server.config.database);
  policy = { maxConsecutiveFailures: server.config.failures.maxConsecutiveFailures, lockoutMs: server.config.failures.lockoutMs };
  for (const protocol of allProtocols) clients.set(protocol, protocolClient(protocol, server.url, server.adminToken));
});
afterAll(async () => {
  reader?.close();
  await server.close();
});

type Channel = "phone" | "email";

interface Tracked {
  id: string;
  /** The last code issued per channel, as the driver learnt it (returned or delivered); undefined if unknown. */
  current: Record<Channel, string | undefined>;
  /** Every code ever issued per channel. */
  issued: Record<Channel, string[]>;
}

/** Raw input and the canonical form the server must store. */
const phonePool = [
  { raw: "+41791110001", value: "+41791110001" },
  { raw: "+41 79 111 00 01", value: "+41791110001" },
  { raw: "+41781110002", value: "+41781110002" },
  { raw: "+41761110003", value: "+41761110003" },
];
const emailPool = [
  { raw: "kim@example.com", value: "kim@example.com" },
  { raw: "kim@EXAMPLE.com", value: "kim@example.com" },
  { raw: "Kim@example.com", value: "Kim@example.com" },
  { raw: "lee@Example.org", value: "lee@example.org" },
];
const clockSteps = [20_000, lockoutMs + 1_000, codeTtlMs + 1_000];

const channelRpc = {
  phone: { set: "setPhone", verify: "verifyPhone", resend: ["resendPhoneCode"], field: "phone", pendingField: "pendingPhone" },
  email: { set: "setEmail", verify: "verifyEmail", resend: ["resendEmailCode", "sendEmailCode"], field: "email", pendingField: "pendingEmail" },
} as const;

/** The outcome the spec gives for a call, decided on the state before it. */
type Outcome = "OK" | string;

/** The spec's lockout: from the ceiling on, counted from the last wrong code, doubled by each wrong code past it. */
function lockEnd(contact: ContactState): number | undefined {
  const beyond = contact.failureStreak - policy.maxConsecutiveFailures;
  if (beyond < 0 || !contact.lastFailureAt) return undefined;
  return contact.lastFailureAt.getTime() + policy.lockoutMs * 2 ** beyond;
}

function isLocked(contact: ContactState, now: Date): boolean {
  const end = lockEnd(contact);
  return end !== undefined && now.getTime() < end;
}

function expectedVerify(contact: ContactState, now: Date, isCurrentCode: boolean): Outcome {
  if (contact.pending === undefined) return contact.verified === undefined ? "NO_PENDING_CODE" : "ALREADY_VERIFIED";
  if (!contact.code) return "NO_PENDING_CODE";
  if (isLocked(contact, now)) return "TOO_MANY_FAILURES";
  if (contact.code.failedAttempts >= maxAttempts) return "MAX_ATTEMPTS_REACHED";
  if (now.getTime() >= contact.code.expiresAt.getTime()) return "CODE_EXPIRED";
  return isCurrentCode ? "OK" : "INVALID_VERIFICATION_CODE";
}

const addressOf = (contact: ContactState) => contact.pending ?? contact.verified;

/** What GetUserByID must show for a contact, in proto3 JSON (false and "" left out). */
function shownContact(contact: ContactState, channel: Channel): JsonObject {
  const { field, pendingField } = channelRpc[channel];
  if (contact.verified !== undefined) {
    return { [field]: contact.verified, isVerified: true, ...(contact.pending ? { [pendingField]: contact.pending } : {}) };
  }
  return contact.pending ? { [field]: contact.pending } : {};
}

function outcomeOf(result: CallResult): Outcome {
  return result.ok ? "OK" : (result.errorInfo?.reason ?? `code ${result.code}: ${result.message}`);
}

const codeFromText = (text: string) => /verification code is (\d{6})\b/.exec(text)?.[1];

describe("projection = replay(events) and GetUserByID agree, over random call sequences", () => {
  it.each(seeds)("sequence with seed %i", async (seed) => {
    const rng = mulberry32(seed);
    const log: string[] = [];
    const users: Tracked[] = [];
    let emails = 0;

    const client = (): ProtocolClient => clients.get(rng.pick(allProtocols)) as ProtocolClient;

    async function check(user: Tracked): Promise<HumanUserState> {
      const events = await reader.events(user.id);
      expect(events.length, "a created user has events").toBeGreaterThan(0);
      expect(
        events.map((event) => event.sequence),
        "event sequences are 1..n",
      ).toEqual(events.map((_, index) => index + 1));
      const replayed = replay(events) as HumanUserState;
      const projection = await reader.load(user.id);
      expect(projection, "projection = replay(events)").toEqual(replayed);

      const protocol = rng.pick(allProtocols);
      const got = await (clients.get(protocol) as ProtocolClient).call("getUserByID", { userId: user.id });
      if (!got.ok) throw new Error(`GetUserByID over ${protocol} failed: ${got.code} ${got.message}`);
      const details = got.body.details as JsonObject;
      const wireUser = got.body.user as JsonObject;
      const human = wireUser.human as JsonObject;
      const last = events.at(-1);
      expect(details.sequence, `details.sequence over ${protocol}`).toBe(String(last?.sequence));
      expect(Date.parse(details.changeDate as string), "details.changeDate").toBe(last?.createdAt.getTime());
      expect(Date.parse(details.creationDate as string), "details.creationDate").toBe(events[0]?.createdAt.getTime());
      expect(wireUser.username, "username").toBe(replayed.username);
      expect(human.phone ?? {}, `phone over ${protocol}`).toEqual(shownContact(replayed.phone, "phone"));
      expect(human.email ?? {}, `email over ${protocol}`).toEqual(shownContact(replayed.email, "email"));
      return replayed;
    }

    /** Runs one call, learns the codes it issued, and checks the answer and the number of events it wrote. */
    async function step(
      user: Tracked | undefined,
      method: MethodName,
      request: JsonObject,
      expected: Outcome | undefined,
      issues?: Channel,
    ): Promise<CallResult> {
      const c = client();
      const before = user ? (await reader.events(user.id)).length : 0;
      const pre = user ? ((await reader.load(user.id)) as HumanUserState) : undefined;
      const mark = server.delivered.length;
      const result = await c.call(method, request);
      await server.outbox.runOnce();
      const delivered = server.delivered.slice(mark);
      log.push(`${c.protocol} ${method} ${JSON.stringify(request)} → ${outcomeOf(result)}${result.ok ? "" : ` (${result.message})`}`);

      if (expected !== undefined) expect(outcomeOf(result), `answer of ${method}`).toBe(expected);
      const target = user ?? (result.ok ? track(result.body.userId as string) : undefined);
      if (!target) {
        expect(delivered, "a refused AddHumanUser sends nothing").toEqual([]);
        return result;
      }
      const post = await check(target);
      const written = (await reader.events(target.id)).length - before;
      if (method === "getUserByID") {
        expect(written, "a read writes nothing").toBe(0);
      } else if (method === "verifyPhone" || method === "verifyEmail") {
        const judged = ["OK", "INVALID_VERIFICATION_CODE", "PHONE_ALREADY_IN_USE", "EMAIL_ALREADY_IN_USE"].includes(outcomeOf(result));
        expect(written, "a judged attempt is one event; one refused before judging, none").toBe(judged ? 1 : 0);
      } else if (!result.ok) {
        expect(written, "a refused call writes nothing").toBe(0);
      } else {
        expect(written, "a successful change writes events").toBeGreaterThan(0);
      }
      if (!result.ok) {
        expect(delivered, "a refused call sends nothing").toEqual([]);
        return result;
      }

      // Learn the codes: returned in the answer, or delivered to the address now awaiting verification.
      const returned: Partial<Record<Channel, string>> =
        method === "addHumanUser"
          ? {
              ...(result.body.phoneCode ? { phone: result.body.phoneCode as string } : {}),
              ...(result.body.emailCode ? { email: result.body.emailCode as string } : {}),
            }
          : issues && result.body.verificationCode
            ? { [issues]: result.body.verificationCode as string }
            : {};
      for (const message of delivered) {
        if (message.purpose === "contact-changed") {
          expect(message.destination, "a notice goes to the verified address the change replaced").toBe(pre?.[message.channel].verified);
          continue;
        }
        const code = codeFromText(message.text);
        expect(code, "a delivered message carries a code").toBeDefined();
        const address = addressOf(post[message.channel]);
        expect(message.destination, "a code is delivered to the address awaiting it").toBe(address);
        returned[message.channel] = code as string;
      }
      for (const channel of ["phone", "email"] as const) {
        const code = returned[channel];
        if (code !== undefined) {
          target.current[channel] = code;
          target.issued[channel].push(code);
        } else if (post[channel].code === undefined) {
          target.current[channel] = undefined;
        } else if (pre && pre[channel].code !== undefined && post[channel].code.hash !== pre[channel].code.hash) {
          target.current[channel] = undefined; // a code we never saw (cannot happen when all were learnt)
        }
      }
      return result;
    }

    /** Whether a user other than `user` has verified the address (all of this test's users share one organization). */
    function takenByAnother(user: Tracked | undefined, channel: Channel, raw: string): boolean {
      const pool = channel === "phone" ? phonePool : emailPool;
      const value = pool.find((entry) => entry.raw === raw)?.value ?? raw.replace(/@.*$/, (domain) => domain.toLowerCase());
      // A verified address is held by its mailbox: in any case (domain/email-address.ts).
      return reader.verifiedBy(channel, channel === "email" ? value.toLowerCase() : value).some((id) => id !== user?.id);
    }
    const inUse = (channel: Channel) => (channel === "phone" ? "PHONE_ALREADY_IN_USE" : "EMAIL_ALREADY_IN_USE");

    function track(id: string): Tracked {
      const user: Tracked = { id, current: { phone: undefined, email: undefined }, issued: { phone: [], email: [] } };
      users.push(user);
      return user;
    }

    const verification = (allowVerified: boolean, channel: Channel): JsonObject => {
      const kinds = allowVerified && rng.chance(0.25) ? ["verified"] : ["send", "return", "return", "default"];
      switch (rng.pick(kinds)) {
        case "send":
          return channel === "email" && rng.chance(0.5)
            ? { sendCode: { urlTemplate: "https://login.example.com/v?u={{.UserID}}&o={{.OrgID}}&c={{.Code}}" } }
            : { sendCode: {} };
        case "return":
          return { returnCode: {} };
        case "verified":
          return { isVerified: true };
        default:
          return {};
      }
    };

    async function addUser() {
      const withPhone = rng.chance(0.6);
      const withEmail = !withPhone || rng.chance(0.5);
      const request: JsonObject = { profile: { givenName: "Kim", familyName: `Seed${seed}` } };
      if (withPhone) request.phone = { phone: rng.pick(phonePool).raw, ...verification(true, "phone") };
      if (withEmail) {
        emails++;
        request.email = { email: `p${seed}-${emails}@${rng.pick(["example.com", "EXAMPLE.com", "Example.Com"])}`, ...verification(true, "email") };
      }
      const taken = (["phone", "email"] as const).find((channel) => {
        const contact = request[channel] as JsonObject | undefined;
        return contact?.isVerified === true && takenByAnother(undefined, channel, contact[channel] as string);
      });
      const result = await step(undefined, "addHumanUser", request, taken ? inUse(taken) : "OK");
      if (!result.ok) return;
      const user = users.at(-1) as Tracked;
      const state = (await reader.load(user.id)) as HumanUserState;
      if (result.ok && !withEmail) expect(state.username, "a phone-only user's username is its id").toBe(user.id);
      if (result.ok && withEmail) expect(state.username, "an email user's username is its email").toBe(state.email.pending ?? state.email.verified);
    }

    try {
      await addUser();
      const length = rng.int(15, 40);
      for (let i = 0; i < length; i++) {
        const roll = rng.next();
        if (roll < 0.08 || users.length === 0) {
          await addUser();
          continue;
        }
        if (roll < 0.15) {
          const ms = rng.pick(clockSteps);
          server.clock.advance(ms);
          log.push(`clock +${ms}ms`);
          continue;
        }
        // Mostly the user touched last, so that codes run out, die and lock instead of spreading thin.
        const user = rng.chance(0.6) ? (users.at(-1) as Tracked) : rng.pick(users);
        const pre = (await reader.load(user.id)) as HumanUserState;
        let channel: Channel = rng.chance(0.55) ? "phone" : "email";
        const other: Channel = channel === "phone" ? "email" : "phone";
        const verifying = roll >= 0.5 && roll < 0.92;
        if (verifying && pre[channel].pending === undefined && pre[other].pending !== undefined && rng.chance(0.8)) channel = other;
        const rpc = channelRpc[channel];
        const contact = pre[channel];

        if (roll < 0.35) {
          const pick = channel === "phone" ? rng.pick(phonePool) : rng.pick(emailPool);
          const how = verification(true, channel);
          const presetTaken = how.isVerified === true && pick.value !== contact.verified && takenByAnother(user, channel, pick.value);
          const expected = pick.value === addressOf(contact) ? "NOT_CHANGED" : presetTaken ? inUse(channel) : "OK";
          await step(user, rpc.set, { userId: user.id, [channel]: pick.raw, ...how }, expected, channel);
        } else if (roll < 0.5) {
          const expected = contact.pending !== undefined ? "OK" : contact.verified !== undefined ? "ALREADY_VERIFIED" : "NO_PENDING_CODE";
          await step(user, rng.pick(rpc.resend), { userId: user.id, ...verification(false, channel) }, expected, channel);
        } else if (roll < 0.92) {
          // Now and then a burst of guesses, so that codes die and the consecutive-failure ceiling is reached.
          const attempts = rng.chance(0.2) ? rng.int(2, 7) : 1;
          for (let attempt = 0; attempt < attempts; attempt++) {
            const state = attempt === 0 ? contact : ((await reader.load(user.id)) as HumanUserState)[channel];
            // Now and then a guesser waits out a lockout, so that wrong codes after one (each doubling the next
            // lockout) come up too.
            const lockoutLeft = (lockEnd(state) ?? 0) - server.clock.now().getTime();
            if (lockoutLeft > 0 && rng.chance(0.5)) {
              server.clock.advance(lockoutLeft);
              log.push(`clock +${lockoutLeft}ms (to the end of the lockout)`);
            }
            const current = user.current[channel];
            const stale = user.issued[channel].filter((code) => code !== current);
            const kind = attempts > 1 && attempt < attempts - 1 ? "wrong" : rng.pick(["right", "right", "wrong", "wrong", "wrong", "stale"] as const);
            let code: string;
            if (kind === "right" && current !== undefined) code = current;
            else if (kind === "stale" && stale.length > 0) code = rng.pick(stale);
            else {
              do code = String(rng.int(0, 999_999)).padStart(6, "0");
              while (code === current);
            }
            const isCurrent = current !== undefined && code === current;
            const judged = expectedVerify(state, server.clock.now(), isCurrent);
            // A right code for an address another user verified first is spent: AlreadyExists, nothing verified.
            const expected = judged === "OK" && takenByAnother(user, channel, state.pending as string) ? inUse(channel) : judged;
            const result = await step(user, rpc.verify, { userId: user.id, verificationCode: code }, expected);
            if (expected === "INVALID_VERIFICATION_CODE" && !result.ok) {
              expect(result.errorInfo?.metadata.attemptsLeft, "attemptsLeft").toBe(String(maxAttempts - (state.code?.failedAttempts ?? 0) - 1));
            }
            if (expected === "TOO_MANY_FAILURES" && !result.ok) {
              expect(result.errorInfo?.metadata.retryAfterSeconds, "retryAfterSeconds").toBe(
                String(Math.ceil(((lockEnd(state) ?? 0) - server.clock.now().getTime()) / 1000)),
              );
            }
          }
        } else if (channel === "phone") {
          await step(user, "removePhone", { userId: user.id }, addressOf(contact) !== undefined ? "OK" : "CONTACT_NOT_FOUND");
        } else {
          await step(user, "getUserByID", { userId: user.id }, "OK");
        }
      }
      for (const user of users) await check(user);
      if (process.env.VERIFYD_PROPERTY_LOG) console.log(`seed ${seed}\n${log.join("\n")}`);
    } catch (error) {
      const message = [
        `property failed for seed ${seed}; reproduce with VERIFYD_PROPERTY_SEED=${seed} npx vitest run test/e2e/projection-property.test.ts`,
        "last calls:",
        ...log.slice(-12).map((line) => `  ${line}`),
        (error as Error).message,
      ].join("\n");
      console.error(message);
      if (error instanceof Error) {
        error.message = message;
        throw error;
      }
      throw new Error(message, { cause: error });
    }
  });
});
