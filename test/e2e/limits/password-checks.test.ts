// Password checks take a core each for tens of milliseconds, and a login for a made-up name costs one like any other
// (so that timing tells no names apart). Without a bound, one client sending logins for made-up names took every
// core of the server and queued everyone's logins behind its own. These tests are that attack, through the public
// interface: a client address gets its share of the password checks under way, and beyond a bounded queue a check
// is refused at once, on /oauth2/token and on the RPCs that hash a password, storing nothing.
import http from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import { api, failure, fixtures, rest, unique } from "../../helpers/api-session.js";
import { createKiiApp, registrationRequestType } from "../../helpers/kii-client.js";
import { type TokenAnswer, loginFrom } from "../../helpers/password-logins.js";
import { type TestServer, startTestServer } from "../../helpers/test-server.js";

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

/** Logins for names nobody has, all at once over at most 15 connections from `localAddress`. */
async function flood(url: string, localAddress: string, logins: number): Promise<TokenAnswer[]> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 15, localAddress });
  try {
    return await Promise.all(Array.from({ length: logins }, () => loginFrom(url, agent, unique("nobody"), "some guess")));
  } finally {
    agent.destroy();
  }
}

describe("logins from one client address", () => {
  it("get 429 slow_down beyond the address's share of the checks under way, while another address logs in", async () => {
    // A tenth of the 10 places running and waiting, so one under way, and a line of 9 behind it.
    server = await startTestServer([
      ...["--password-checks-at-once", "1", "--password-checks-waiting", "9"],
      ...["--max-connections", "200", "--max-connections-per-client", "20"],
    ]);
    const setup = fixtures(server.url, server.adminToken);
    const organization = await setup.organization();
    const username = unique("patient");
    const password = "correct horse battery";
    await setup.person(organization, { username, password });
    const url = server.url;

    const [flooded, meanwhile] = await Promise.all([
      flood(url, "127.0.0.1", 30),
      // Once the flood has filled its share, a person logs in from another address.
      new Promise((resolve) => setTimeout(resolve, 20)).then(() => loginFrom(url, new http.Agent({ localAddress: "127.0.0.2" }), username, password)),
    ]);
    const slowedDown = flooded.filter((answer) => answer.status === 429);
    expect(slowedDown.length).toBeGreaterThan(0);
    for (const answer of slowedDown) expect(answer).toEqual({ status: 429, retryAfter: "1", error: "slow_down" });
    // Those checked were refused as any wrong login is; nothing else.
    expect(flooded.filter((answer) => answer.status !== 429)).toEqual(
      flooded.filter((answer) => answer.status === 400 && answer.error === "invalid_grant"),
    );
    expect(meanwhile.status).toBe(200);

    // The security log tells the operator which address was held back.
    const log = await rest(url, server.adminToken, "POST", "/verifyd/v1/security_events/_search", { kinds: ["limit.reached"] });
    expect(log.body).toMatchObject({
      result: [{ kind: "limit.reached", clientAddress: "127.0.0.1", detail: { reason: "LOGINS_UNDER_WAY_FROM_CLIENT" } }],
    });
  });
});

describe("a burst of logins from one client", () => {
  it("waits in the client's own line rather than being refused: a backend logging twelve people in at once", async () => {
    server = await startTestServer(["--password-checks-at-once", "1"]);
    const answers = await flood(server.url, "127.0.0.1", 12);
    expect(answers).toEqual(Array(12).fill({ status: 400, retryAfter: undefined, error: "invalid_grant" }));
  });
});

describe("password checks beyond the queue", () => {
  it("are refused at once: 503 temporarily_unavailable at /oauth2/token", async () => {
    // One check running and one waiting, and each of four addresses may have one of them under way.
    server = await startTestServer([
      ...["--password-checks-at-once", "1", "--password-checks-waiting", "1"],
      ...["--max-connections", "100", "--max-connections-per-client", "50"],
    ]);
    const url = server.url;
    const addresses = ["127.0.0.1", "127.0.0.2", "127.0.0.3", "127.0.0.4"];
    const answers = (await Promise.all(addresses.map((address) => flood(url, address, 5)))).flat();
    const busy = answers.filter((answer) => answer.status === 503);
    expect(busy.length).toBeGreaterThan(0);
    for (const answer of busy) expect(answer).toEqual({ status: 503, retryAfter: "1", error: "temporarily_unavailable" });
    expect(answers.some((answer) => answer.status === 400 && answer.error === "invalid_grant")).toBe(true);
  });

  it("are Unavailable PASSWORD_CHECKS_BUSY on AddHumanUser with a password, which then adds no user", async () => {
    server = await startTestServer(["--password-checks-at-once", "1", "--password-checks-waiting", "0"]);
    const setup = fixtures(server.url, server.adminToken);
    const organization = await setup.organization();
    const users = api(server.url, server.adminToken, "grpc").users;
    const usernames = Array.from({ length: 8 }, () => unique("hashed-at-once"));
    const outcomes = await Promise.all(
      usernames.map((username) =>
        failure(
          users.addHumanUser({
            username,
            organization: { org: { case: "orgId", value: organization } },
            profile: { givenName: "Ada", familyName: "Lovelace" },
            email: { email: `${username}@example.com` },
            passwordType: { case: "password", value: { password: "correct horse battery" } },
          }),
        ).catch(() => undefined),
      ),
    );
    const refused = outcomes.flatMap((outcome, index) => (outcome ? [{ outcome, username: usernames[index]! }] : []));
    expect(refused.length).toBeGreaterThan(0);
    expect(refused.length).toBeLessThan(usernames.length);
    for (const { outcome, username } of refused) {
      expect(outcome).toMatchObject({ code: 14, reason: "PASSWORD_CHECKS_BUSY", metadata: { retryAfterSeconds: "1" } });
      const found = await users.listUsers({ queries: [{ query: { case: "userNameQuery", value: { userName: username } } }] });
      expect(found.result).toEqual([]);
    }
  });

  it("are 503 ServiceUnavailableException with Retry-After at Kii's registration, which then registers nobody", async () => {
    server = await startTestServer(["--password-checks-at-once", "1", "--password-checks-waiting", "0"]);
    const organization = await fixtures(server.url, server.adminToken).organization();
    const app = await createKiiApp(server, organization);
    const loginNames = Array.from({ length: 8 }, () => unique("kii-at-once"));
    const answers = await Promise.all(
      loginNames.map((loginName) =>
        app.call("POST", "/users", { authorization: app.basic, contentType: registrationRequestType, body: { loginName, password: "correct horse battery" } }),
      ),
    );
    const refused = answers.flatMap((answer, index) => (answer.status === 503 ? [{ answer, loginName: loginNames[index]! }] : []));
    expect(refused.length).toBeGreaterThan(0);
    expect(answers.filter((answer) => answer.status !== 503).every((answer) => answer.status === 201)).toBe(true);
    for (const { answer, loginName } of refused) {
      expect(answer.headers.get("retry-after")).toBe("1");
      expect(answer.body).toMatchObject({ errorCode: "SERVICE_UNAVAILABLE", reason: "PASSWORD_CHECKS_BUSY" });
      expect((await app.login(loginName, "correct horse battery")).status).toBe(400);
    }
  });
});
