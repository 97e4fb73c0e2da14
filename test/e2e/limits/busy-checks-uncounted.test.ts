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

describe("a login refused because the password checks are busy", () => {
  it("does not count against the login name: the right password logs in after the flood, however often it got 503", async () => {
    server = await startTestServer([
      ...["--password-checks-at-once", "1", "--password-checks-waiting", "0"],
      ...["--max-connections", "100", "--max-connections-per-client", "20"],
    ]);
    const setup = fixtures(server.url, server.adminToken);
    const username = unique("retrying");
    const password = "correct horse battery";
    await setup.person(await setup.organization(), { username, password });
    const url = server.url;

    let stop = false;
    const flooding = flood(url, ["127.0.0.2", "127.0.0.3", "127.0.0.4"], () => stop);
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1, localAddress: "127.0.0.1" });
    const answers: number[] = [];
    try {
      // Busy answers in a row, since any that found the place free and logged in (which clears the count anyway).
      let busyInARow = 0;
      while (busyInARow < 8 && answers.length < 400) {
        const status = await statusOfLogin(url, agent, username, password);
        answers.push(status);
        if (status === 503) busyInARow++;
        else if (status === 200) busyInARow = 0;
        else break;
      }
      expect(busyInARow).toBeGreaterThanOrEqual(8);
    } finally {
      stop = true;
      await flooding;
    }
    expect(answers.filter((status) => status !== 503 && status !== 200)).toEqual([]);

    expect(await statusOfLogin(url, agent, username, password)).toBe(200);
    agent.destroy();
  });

  it("does not count a current password SetPassword never checked against the login name either", async () => {
    server = await startTestServer([
      ...["--password-checks-at-once", "1", "--password-checks-waiting", "0"],
      ...["--max-connections", "100", "--max-connections-per-client", "20"],
    ]);
    const setup = fixtures(server.url, server.adminToken);
    const username = unique("changing");
    const password = "correct horse battery";
    const userId = await setup.person(await setup.organization(), { username, password });
    const users = api(server.url, server.adminToken).users;
    const url = server.url;

    let stop = false;
    const flooding = flood(url, ["127.0.0.2", "127.0.0.3", "127.0.0.4"], () => stop);
    const outcomes: unknown[] = [];
    try {
      // The same password again, so that a change which found the place free changes nothing the login below needs.
      const change = () =>
        users.setPassword({ userId, newPassword: { password }, verification: { case: "currentPassword", value: password } });
      let busyInARow = 0;
      while (busyInARow < 8 && outcomes.length < 400) {
        const refused = await failure(change()).catch(() => undefined);
        outcomes.push(refused);
        if (refused === undefined) busyInARow = 0;
        else if (refused.reason === "PASSWORD_CHECKS_BUSY") busyInARow++;
        else break;
      }
      expect(busyInARow).toBeGreaterThanOrEqual(8);
    } finally {
      stop = true;
      await flooding;
    }

    const agent = new http.Agent({ localAddress: "127.0.0.1" });
    expect(await statusOfLogin(url, agent, username, password)).toBe(200);
    agent.destroy();
  });
});
