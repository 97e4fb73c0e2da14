// HTTP asks every resource that answers GET to answer HEAD as well (RFC 9110, 9.3.2): the GET's status and headers,
// no body. A monitor or a cache checking that a user exists sends HEAD; before, the REST gateway answered it 405.
import http from "node:http";
import http2 from "node:http2";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fixtures, rest } from "../helpers/api-session.js";
import { type TestServer, startTestServer } from "../helpers/test-server.js";

let server: TestServer;
let userId: string;
beforeAll(async () => {
  server = await startTestServer();
  const setup = fixtures(server.url, server.adminToken);
  userId = await setup.person(await setup.organization());
});
afterAll(async () => {
  await server.close();
});

interface HeadAnswer {
  status: number;
  contentLength: string | undefined;
  bodyBytes: number;
}

function headHttp1(path: string): Promise<HeadAnswer> {
  return new Promise((resolve, reject) => {
    const req = http.request(new URL(path, server.url), { method: "HEAD", agent: false, headers: { authorization: `Bearer ${server.adminToken}` } }, (res) => {
      let bodyBytes = 0;
      res.on("data", (chunk: Buffer) => (bodyBytes += chunk.length));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, contentLength: res.headers["content-length"], bodyBytes }));
    });
    req.on("error", reject);
    req.end();
  });
}

function headHttp2(path: string): Promise<HeadAnswer> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(server.url);
    session.on("error", reject);
    const stream = session.request({ ":method": "HEAD", ":path": path, authorization: `Bearer ${server.adminToken}` }, { endStream: true });
    let answer: HeadAnswer = { status: 0, contentLength: undefined, bodyBytes: 0 };
    stream.on("response", (headers) => {
      answer = { ...answer, status: Number(headers[":status"]), contentLength: headers["content-length"] };
    });
    stream.on("data", (chunk: Buffer) => (answer.bodyBytes += chunk.length));
    stream.on("error", reject);
    stream.on("end", () => {
      session.close();
      resolve(answer);
    });
  });
}

describe.each([
  ["HTTP/1.1", headHttp1],
  ["HTTP/2", headHttp2],
])("HEAD on a REST GET route over %s", (_version, head) => {
  it("answers the GET's status and length without a body", async () => {
    const got = await fetch(`${server.url}/v2/users/${userId}`, { headers: { authorization: `Bearer ${server.adminToken}` } });
    const length = (await got.arrayBuffer()).byteLength;
    expect(await head(`/v2/users/${userId}`)).toEqual({ status: 200, contentLength: String(length), bodyBytes: 0 });
  });

  it("answers a missing user 404, as GET does", async () => {
    expect(await head("/v2/users/123456789")).toMatchObject({ status: 404, bodyBytes: 0 });
  });
});

it("names HEAD beside GET in a 405's Allow", async () => {
  const refused = await fetch(`${server.url}/v2/users/${userId}`, { method: "PUT", headers: { authorization: `Bearer ${server.adminToken}` } });
  expect(refused.status).toBe(405);
  expect(refused.headers.get("allow")?.split(", ").sort()).toEqual(["DELETE", "GET", "HEAD"]);
  // HEAD reads: it changes nothing.
  expect((await rest(server.url, server.adminToken, "GET", `/v2/users/${userId}`)).status).toBe(200);
});
