// A server reached over TLS, its own or a proxy's, is https: a page on its name served in plaintext is no page of its
// own. Such a page (on-path, a network can write any) posted a login form with `Origin: http://<its name>` and got
// past the guard against other sites' form posts, since the guard compared host and port alone.
import http from "node:http";
import https from "node:https";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { uniqueMobile, unique } from "../helpers/api-session.js";
import { createTestCertificate } from "../helpers/tls-cert.js";
import { type TestServer, startTestServer } from "../helpers/test-server.js";

interface Answer {
  status: number;
  text: string;
}

interface Target {
  server: TestServer;
  /** The name clients reach the server under (the Host a proxy forwards). */
  authority: string;
  ca?: string;
}

function send(target: Target, path: string, headers: http.OutgoingHttpHeaders, body: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const url = new URL(target.server.url);
    const options = {
      host: url.hostname,
      port: Number(url.port),
      method: "POST",
      path,
      headers: { host: target.authority, "content-length": Buffer.byteLength(body), ...headers },
      agent: false,
      ...(target.ca ? { ca: target.ca, servername: "localhost" } : {}),
    };
    const req = (target.ca ? https : http).request(options, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString() }));
    });
    req.on("error", reject);
    req.end(body);
  });
}

/** A user with a password, and a login form for it as a browser posts one from `origin`. */
async function loginFormFor(target: Target): Promise<(origin: string) => Promise<Answer>> {
  const username = unique("scheme");
  const password = "correct horse battery";
  const human = { username, profile: { givenName: "Ada", familyName: "Lovelace" }, phone: { phone: uniqueMobile(), isVerified: true }, password: { password } };
  const added = await send(
    target,
    "/v2/users/human",
    { authorization: `Bearer ${target.server.adminToken}`, "content-type": "application/json" },
    JSON.stringify(human),
  );
  expect(added.status, added.text).toBe(200);
  const form = new URLSearchParams({ grant_type: "password", username, password }).toString();
  return (origin) => send(target, "/oauth2/token", { origin, "content-type": "application/x-www-form-urlencoded" }, form);
}

function expectRefused(answer: Answer, origin: string): void {
  expect(answer.status).toBe(403);
  expect(JSON.parse(answer.text)).toEqual({ code: 7, message: `the origin ${origin} may not call this server; list it in --cors-origins (VERIFYD_CORS_ORIGINS)` });
}

describe("with TLS at a proxy in front", () => {
  let target: Target;
  beforeAll(async () => {
    const server = await startTestServer(["--tls-at-proxy", "--allowed-hosts", "id.example.com"]);
    target = { server, authority: "id.example.com" };
  });
  afterAll(async () => {
    await target?.server.close();
  });

  it("takes a login form from https://<its name>, and refuses one from http://<its name>", async () => {
    const login = await loginFormFor(target);
    expectRefused(await login("http://id.example.com"), "http://id.example.com");
    const own = await login("https://id.example.com");
    expect(own.status, own.text).toBe(200);
    expect(JSON.parse(own.text)).toMatchObject({ token_type: "bearer" });
  });
});

describe("with its own TLS", () => {
  let target: Target;
  beforeAll(async () => {
    const certificate = await createTestCertificate();
    const server = await startTestServer([], { tls: certificate });
    target = { server, authority: `localhost:${server.port}`, ca: certificate.cert };
  });
  afterAll(async () => {
    await target?.server.close();
  });

  it("takes a login form from https://<its name and port>, and refuses one from http://<the same>", async () => {
    const login = await loginFormFor(target);
    const plaintext = `http://localhost:${target.server.port}`;
    expectRefused(await login(plaintext), plaintext);
    const own = await login(`https://localhost:${target.server.port}`);
    expect(own.status, own.text).toBe(200);
  });
});

describe("in cleartext", () => {
  let target: Target;
  beforeAll(async () => {
    const server = await startTestServer();
    target = { server, authority: `localhost:${server.port}` };
  });
  afterAll(async () => {
    await target?.server.close();
  });

  it("still takes a login form from http://<its name and port>, its own origin", async () => {
    const login = await loginFormFor(target);
    expect((await login(`http://localhost:${target.server.port}`)).status).toBe(200);
  });
});
