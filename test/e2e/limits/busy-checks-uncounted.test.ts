// A login refused because the password checks are busy was never checked, so it is no guess. Counted as one, it
// locked a person out by their own retries: while a flood of other clients' logins kept the checks busy, each retry
// with the right password got 503 and climbed the login name's throttle, and once the flood stopped the right
// password got 429 slow_down (the test clock never moves, so a wait once imposed never passes).
import http from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import { api, failure, fixtures, unique } from "../../helpers/api-session.js";
import { loginFrom } from "../../helpers/password-logins.js";
import { type TestServer, startTestServer } from "../../helpers/test-server.js";

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

/** A password login's status. */
async function statusOfLogin(url: string, agent: http.Agent, username: string, password: string): Promise<number> {
  return (await loginFrom(url, agent, username, password)).status;
}

/**
 * Logins for made-up names from each address, one after another per address (within its share of the checks), until
 * `stopped()`: with one place and none waiting, the place is nearly always taken.
 */
async function flood(url: string, addresses: string[], stopped: () => boolean): Promise<void> {
  await Promise.all(
    addresses.map(async (localAddress) => {
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1, localAddress });
      try {
        while (!stopped()) await statusOfLogin(url, agent, unique("nobody"), "some guess");
      } finally {
        agent.destroy();
      }
    }),
  );
}

/** One place for checks and none waiting, and room for the flood's connections. */
const busyServerFlags = [
  ...["--password-checks-at-once", "1", "--password-checks-waiting", "0"],
  ...["--max-connections", "100", "--max-connections-per-client", "20"],
];

/** What one try of the person's own call came to: refused as busy, done, or anything else (which ends the tries). */
type Outcome = "busy" | "done" | "other";

/**
 * Tries the person's call again and again while other addresses flood the checks, until it was refused as busy 8
 * times in a row (a try that found the place free and was done clears the count anyway); returns every outcome.
 */
async function triesDuringFlood(url: string, tryOnce: () => Promise<Outcome>): Promise<Outcome[]> {
  let stop = false;
  const flooding = flood(url, ["127.0.0.2", "127.0.0.3", "127.0.0.4"], () => stop);
  const outcomes: Outcome[] = [];
  try {
    let busyInARow = 0;
    while (busyInARow < 8 && outcomes.length < 400) {
      const outcome = await tryOnce();
      outcomes.push(outcome);
      if (outcome === "busy") busyInARow++;
      else if (outcome === "done") busyInARow = 0;
      else break;
    }
    expect(busyInARow).toBeGreaterThanOrEqual(8);
  } finally {
    stop = true;
    await flooding;
  }
  return outcomes;
}

/** A person with a password in an organization of its own. */
async function personWithPassword(namePrefix: string) {
  server = await startTestServer(busyServerFlags);
  const setup = fixtures(server.url, server.adminToken);
  const username = unique(namePrefix);
  const password = "correct horse battery";
  const userId = await setup.person(await setup.organization(), { username, password });
  return { url: server.url, userId, username, password };
}

describe("a login refused because the password checks are busy", () => {
  it("does not count against the login name: the right password logs in after the flood, however often it got 503", async () => {
    const { url, username, password } = await personWithPassword("retrying");
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1, localAddress: "127.0.0.1" });
    const outcomes = await triesDuringFlood(url, async () => {
      const status = await statusOfLogin(url, agent, username, password);
      return status === 503 ? "busy" : status === 200 ? "done" : "other";
    });
    expect(outcomes.filter((outcome) => outcome === "other")).toEqual([]);

    expect(await statusOfLogin(url, agent, username, password)).toBe(200);
    agent.destroy();
  });

  it("does not count a current password SetPassword never checked against the login name either", async () => {
    const { url, userId, username, password } = await personWithPassword("changing");
    const users = api(url, server!.adminToken).users;
    // The same password again, so that a change which found the place free changes nothing the login below needs.
    const change = () => users.setPassword({ userId, newPassword: { password }, verification: { case: "currentPassword", value: password } });
    await triesDuringFlood(url, async () => {
      const refused = await failure(change()).catch(() => undefined);
      return refused === undefined ? "done" : refused.reason === "PASSWORD_CHECKS_BUSY" ? "busy" : "other";
    });

    const agent = new http.Agent({ localAddress: "127.0.0.1" });
    expect(await statusOfLogin(url, agent, username, password)).toBe(200);
    agent.destroy();
  });
});
