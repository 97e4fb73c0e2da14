// Limits and the one-owner rule live in the database: each holds in total across two server processes on one file,
// and survives a restart. Real processes, started as `npm start` starts them, on the real clock.
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { uniqueMobile } from "../../helpers/api-session.js";
import type { JsonObject } from "@bufbuild/protobuf";
import { type CallResult, type MethodName, expectFailure, expectOk, protocolClient } from "../../helpers/protocol-clients.js";
import { serverProcessDirectories, startServerProcess } from "../../helpers/server-process.js";

const tempDirectory = serverProcessDirectories("verifyd-limits-");
const profile = { givenName: "Ada", familyName: "Lovelace" };

type Caller = (method: MethodName, request: JsonObject) => Promise<CallResult>;
interface Shared {
  /** A user with a pending phone number, added before the calls. */
  userId: string;
  /** A destination the calls may share. */
  phone: string;
}

const outOfReach = {
  "send-cooldown": "0s",
  "sends-per-destination-10m": "1000000",
  "sends-per-destination-day": "1000000",
  "sends-per-organization-hour": "1000000",
  "sends-per-caller-hour": "1000000",
  "verifications-per-user-hour": "1000000",
};

describe("two processes on one database", () => {
  /** Each limit, reachable alone at 2 (the cooldown at its 60 s), and the calls that reach it: `act(i)` is the i-th. */
  const cases: {
    limit: string;
    flags: string[];
    /** The refusal's reason, and the answer of a call within the limit. */
    reason?: string;
    within?: string;
    act: (call: Caller, i: number, shared: Shared) => Promise<CallResult>;
  }[] = [
    { limit: "send_cooldown", flags: ["--send-cooldown", "60s"], act: (call, i, { userId }) => (i === 0 ? call("setPhone", { userId, phone: uniqueMobile() }) : call("resendPhoneCode", { userId })) },
    { limit: "sends_per_destination_10m", flags: ["--sends-per-destination-10m", "2"], act: (call, _i, { phone }) => call("addHumanUser", { profile, phone: { phone } }) },
    { limit: "sends_per_destination_day", flags: ["--sends-per-destination-day", "2"], act: (call, _i, { phone }) => call("addHumanUser", { profile, phone: { phone } }) },
    { limit: "sends_per_organization_hour", flags: ["--sends-per-organization-hour", "2"], act: (call) => call("addHumanUser", { profile, phone: { phone: uniqueMobile() } }) },
    { limit: "sends_per_caller_hour", flags: ["--sends-per-caller-hour", "2"], act: (call) => call("addHumanUser", { profile, phone: { phone: uniqueMobile() } }) },
    {
      limit: "verifications_per_user_hour",
      flags: ["--verifications-per-user-hour", "2"],
      reason: "VERIFY_LIMIT_REACHED",
      within: "INVALID_VERIFICATION_CODE",
      act: (call, _i, { userId }) => call("verifyPhone", { userId, verificationCode: "wrong" }),
    },
  ];

  it.each(cases)("hold $limit in total across them, and across a restart", async ({ limit, flags, reason = "SEND_LIMIT_REACHED", within = "ok", act }) => {
    const database = join(tempDirectory(), "verifyd.sqlite");
    const args = [...Object.entries(outOfReach).flatMap(([flag, value]) => [`--${flag}`, value]), ...flags];
    const first = await startServerProcess(database, { args });
    const second = await startServerProcess(database, { args });
    const callers: Caller[] = [first, second].map((server, index) => {
      const client = protocolClient(index === 0 ? "grpc" : "rest", server.url, server.adminToken);
      return (method, request) => client.call(method, request);
    });
    const admin = protocolClient("connect-json", first.url, first.adminToken);
    const phone = uniqueMobile();
    const userId = expectOk(await admin.call("addHumanUser", { profile, phone: { phone: uniqueMobile(), returnCode: {} } })).userId as string;
    const shared = { userId, phone };

    const answers: CallResult[] = [];
    for (let i = 0; i < 4; i++) answers.push(await act(callers[i % 2] as Caller, i, shared));
    const allowed = limit === "send_cooldown" ? 1 : 2;
    const outcomes = answers.map((answer) => (answer.ok ? "ok" : answer.errorInfo?.reason));
    expect(outcomes.slice(0, allowed), "within the limit").toEqual(Array(allowed).fill(within));
    for (const refused of answers.slice(allowed)) {
      expect(expectFailure(refused)).toMatchObject({ code: 8, errorInfo: { reason, metadata: { limit } } });
    }

    await second.stop();
    const restarted = await startServerProcess(database, { args });
    const client = protocolClient("connect-h2", restarted.url, restarted.adminToken);
    const again = expectFailure(await act((method, request) => client.call(method, request), 4, shared));
    expect(again).toMatchObject({ code: 8, errorInfo: { reason, metadata: { limit } } });
  });

  it("let exactly one of two users racing to verify one number win, every time", async () => {
    const database = join(tempDirectory(), "verifyd.sqlite");
    const first = await startServerProcess(database);
    const second = await startServerProcess(database);
    const clients = [protocolClient("grpc", first.url, first.adminToken), protocolClient("connect-h2", second.url, second.adminToken)];
    for (let round = 0; round < 10; round++) {
      const phone = uniqueMobile();
      const users = await Promise.all(
        clients.map(async (client) => expectOk(await client.call("addHumanUser", { profile, phone: { phone, returnCode: {} } }))),
      );
      const answers = await Promise.all(
        users.map((user, index) =>
          clients[index]!.call("verifyPhone", { userId: user.userId as string, verificationCode: user.phoneCode as string }),
        ),
      );
      expect(answers.filter((answer) => answer.ok), `round ${round}`).toHaveLength(1);
      expect(answers.filter((answer) => !answer.ok).map((answer) => !answer.ok && answer.errorInfo?.reason)).toEqual(["PHONE_ALREADY_IN_USE"]);
    }
  });
});
