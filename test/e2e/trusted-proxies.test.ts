// Behind a reverse proxy every connection comes from the proxy; the client is in the X-Forwarded-For the proxy
// wrote. verifyd believes that header only from the proxies --trusted-proxies names: from anyone else it is the
// client's own claim, which would let a client pick the address it is logged and limited under.
import http from "node:http";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { api, rest, unique } from "../helpers/api-session.js";
import { loginFrom } from "../helpers/password-logins.js";
import { type ServerProcess, serverProcessDirectories, startServerProcess, stopAllServerProcesses } from "../helpers/server-process.js";
import { type TestServer, startTestServer } from "../helpers/test-server.js";

const newDataDir = serverProcessDirectories("verifyd-proxies-");
let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});
afterAll(stopAllServerProcesses);

/** A login for a name nobody has, with the X-Forwarded-For a proxy (or a client pretending) would send. */
async function loginForwardedFor(url: string, agent: http.Agent, forwardedFor: string): Promise<{ status: number; error: unknown }> {
  const { status, error } = await loginFrom(url, agent, unique("nobody"), "a guess", { "x-forwarded-for": forwardedFor });
  return { status, error };
}

async function loginsAtOnce(url: string, forwardedFor: (index: number) => string, count: number): Promise<{ status: number; error: unknown }[]> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 15 });
  try {
    return await Promise.all(Array.from({ length: count }, (_, index) => loginForwardedFor(url, agent, forwardedFor(index))));
  } finally {
    agent.destroy();
  }
}

async function securityEvents(target: { url: string; adminToken: string }, kind: string): Promise<Record<string, unknown>[]> {
  const answer = await rest(target.url, target.adminToken, "POST", "/verifyd/v1/security_events/_search", { kinds: [kind] });
  return (answer.body as { result?: Record<string, unknown>[] }).result ?? [];
}

/** The first log line (stderr) that `matches`, waiting up to 10 s for it: lines are written a turn of the event loop at a time. */
async function logLine(process: ServerProcess, matches: (line: string) => boolean): Promise<Record<string, unknown>> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const line = process.stderr.find(matches);
    if (line) return JSON.parse(line) as Record<string, unknown>;
    if (Date.now() > deadline) throw new Error(`no such log line; stderr:\n${process.stderr.join("\n")}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

// One login check at a time and nine waiting: a client may have one login under way.
const oneLoginPerClient = ["--password-checks-at-once", "1", "--password-checks-waiting", "9"];

describe("behind a proxy named in --trusted-proxies", () => {
  it("logs the client the proxy forwarded for, and the proxy apart, on HTTP/1.1 and HTTP/2; a forged start of the chain is not believed", async () => {
    const proxied: ServerProcess = await startServerProcess(join(newDataDir(), "verifyd.sqlite"), { args: ["--trusted-proxies", "127.0.0.1"] });
    // The client put 198.51.100.1 in front; the proxy appended the address it saw the client connect from.
    const chain = "198.51.100.1, 203.0.113.9";
    expect(await loginsAtOnce(proxied.url, () => chain, 1)).toEqual([{ status: 400, error: "invalid_grant" }]);
    const loginLine = await logLine(proxied, (line) => line.includes('"http":"POST /oauth2/token"'));
    expect(loginLine).toMatchObject({ clientAddress: "203.0.113.9", proxyAddress: expect.stringMatching(/127\.0\.0\.1$/) });
    expect(await securityEvents(proxied, "login.failed")).toEqual([expect.objectContaining({ clientAddress: "203.0.113.9" })]);

    // Text that is no address, as a client may write it and a proxy pass it on, is not believed: the proxy stands for it.
    await loginsAtOnce(proxied.url, () => "not-an-address <script>", 1);
    const textLine = await logLine(proxied, (line) => line.includes('"http":"POST /oauth2/token"') && !line.includes("203.0.113.9"));
    expect(textLine).toMatchObject({ clientAddress: expect.stringMatching(/127\.0\.0\.1$/) });
    expect(textLine.proxyAddress).toBeUndefined();

    const users = api(proxied.url, proxied.adminToken, "grpc").users;
    await users.getUserByID({ userId: "no-such-user" }, { headers: { "x-forwarded-for": "203.0.113.10" } }).catch(() => undefined);
    const grpcLine = await logLine(proxied, (line) => line.includes('"rpc":"zitadel.user.v2.UserService/GetUserByID"'));
    expect(grpcLine).toMatchObject({ protocol: "grpc", clientAddress: "203.0.113.10", proxyAddress: expect.stringMatching(/127\.0\.0\.1$/) });
  });

  it("counts the logins under way per forwarded client: one client's flood does not hold back another's login", async () => {
    server = await startTestServer(["--trusted-proxies", "loopback", ...oneLoginPerClient]);
    const url = server.url;
    const [flood, other] = await Promise.all([
      loginsAtOnce(url, () => "203.0.113.20", 20),
      new Promise((resolve) => setTimeout(resolve, 20)).then(() => loginsAtOnce(url, () => "203.0.113.21", 1)),
    ]);
    expect(flood.filter((answer) => answer.status === 429).length).toBeGreaterThan(0);
    expect(other).toEqual([{ status: 400, error: "invalid_grant" }]);
    expect(await securityEvents(server, "limit.reached")).toEqual([
      expect.objectContaining({ clientAddress: "203.0.113.20", detail: { reason: "LOGINS_UNDER_WAY_FROM_CLIENT" } }),
    ]);
  });

  it("warns at start when TLS ends at a proxy that is not named", async () => {
    const unnamed = await startServerProcess(join(newDataDir(), "verifyd.sqlite"), { args: ["--tls-at-proxy"] });
    expect(await logLine(unnamed, (line) => line.includes("behind a proxy, every client is the proxy"))).toMatchObject({ level: "warn" });
  });
});

describe("without --trusted-proxies", () => {
  it("takes X-Forwarded-For as the client's own claim and ignores it: a client cannot dodge its share by naming other addresses", async () => {
    server = await startTestServer(oneLoginPerClient);
    const answers = await loginsAtOnce(server.url, (index) => `203.0.113.${index + 1}`, 20);
    expect(answers.filter((answer) => answer.status === 429).length).toBeGreaterThan(0);
    const events = [...(await securityEvents(server, "limit.reached")), ...(await securityEvents(server, "login.failed"))];
    expect(events.length).toBeGreaterThan(0);
    for (const event of events) expect(event.clientAddress).toMatch(/127\.0\.0\.1$/);
  });
});
