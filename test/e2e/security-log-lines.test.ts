// The server's log under a flood of one security outcome, read as an operator reads it: the security log counts every
// repeat on one entry, and the log writes the first occurrence's line at once and its repeats as one line a minute
// later, where it wrote a line per refusal (a client refused a thousand times a second wrote a thousand lines a second).
import { join } from "node:path";
import { expect, it } from "vitest";
import { fixtures, uniqueMobile } from "../helpers/api-session.js";
import { expectFailure, expectOk, protocolClient } from "../helpers/protocol-clients.js";
import { serverProcessDirectories, startServerProcess } from "../helpers/server-process.js";

const newDataDir = serverProcessDirectories("verifyd-security-lines-");

type LogLine = Record<string, unknown> & { message: string };

it("a flood of one refusal is one line, a different refusal a line of its own, and the security log counts them all", async () => {
  const server = await startServerProcess(join(newDataDir(), "verifyd.sqlite"), { args: ["--log-level", "info"] });
  const setup = fixtures(server.url, server.adminToken);
  const organizationId = await setup.organization();
  const [person, other] = [await setup.person(organizationId), await setup.person(organizationId)];
  const viewer = await setup.member(organizationId, ["ORG_USER_VIEWER"]);
  const client = protocolClient("rest", server.url, viewer.token);
  const setPhone = (userId: string) => client.call("setPhone", { userId, phone: uniqueMobile(), returnCode: {} });

  const flood = 300;
  for (let batch = 0; batch < flood / 10; batch++) {
    for (const refused of await Promise.all(Array.from({ length: 10 }, () => setPhone(person)))) expect(expectFailure(refused).code).toBe(7);
  }
  expect(expectFailure(await setPhone(other)).code).toBe(7);

  const admin = protocolClient("connect-json", server.url, server.adminToken);
  const entries = expectOk(await admin.callService("SecurityLogService", "listSecurityEvents", { actorId: viewer.userId })).result as {
    userId: string;
    count: number;
  }[];
  expect(entries.map(({ userId, count }) => ({ userId, count }))).toEqual(
    expect.arrayContaining([
      { userId: person, count: flood },
      { userId: other, count: 1 },
    ]),
  );

  // Every refused call still has its own access line, written once its answer has gone out: by the last of them,
  // every security line is out too.
  const accessLines = () => server.stderr.filter((line) => line.includes('"message":"call"') && line.includes('"status":403')).length;
  await expect.poll(accessLines).toBe(flood + 1);
  const lines = server.stderr.map((line) => JSON.parse(line) as LogLine);
  const refusals = lines.filter((line) => line.message === "security event" && line.actorId === viewer.userId);
  expect(refusals).toEqual([
    expect.objectContaining({ level: "warn", kind: "permission.denied", userId: person }),
    expect.objectContaining({ level: "warn", kind: "permission.denied", userId: other }),
  ]);
  expect(refusals[0]).not.toHaveProperty("repeats");
});
