// DNS rebinding: a page whose own name has come to resolve to this server's address sends that name as Host or
// :authority. Each test below plays such a client against the real server, next to clients that name it properly.
import http from "node:http";
import http2 from "node:http2";
import net from "node:net";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Health, HealthCheckResponse_ServingStatus as Status } from "../../src/gen/grpc/health/v1/health_pb.js";
import { UserService } from "../../src/gen/zitadel/user/v2/user_service_pb.js";
import { bearer } from "../helpers/protocol-clients.js";
import { type TestServer, startTestServer } from "../helpers/test-server.js";

const unknownUser = "/v2/users/404404404";
/** Added to a refusal of a name that looks like a proxy's own: an address, a loopback or bare name, the server's port. */
const proxyHint =
  "; a proxy in front must forward the client's Host instead (nginx: proxy_set_header Host $host; grpc_set_header Host $host): listing its upstream name lets every request through";

interface Answer {
  status: number;
  body: string;
}

function http1(server: TestServer, host: string, path = unknownUser): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: "127.0.0.1", port: server.port, path, agent: false, headers: { host, authorization: `Bearer ${server.adminToken}` } }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (body += chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

/** HTTP/1.0 needs no Host header (Node refuses HTTP/1.1 without one), and its answer comes unchunked. */
function http10WithoutHost(server: TestServer): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(server.port, "127.0.0.1");
    let received = "";
    socket.setEncoding("latin1");
    socket.on("data", (chunk: string) => (received += chunk));
    socket.on("error", reject);
    socket.on("end", () => {
      const [head = "", body = ""] = received.split("\r\n\r\n");
      resolve({ status: Number(/^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1] ?? 0), body });
    });
    socket.write(`GET ${unknownUser} HTTP/1.0\r\n\r\n`);
  });
}

function http2Request(server: TestServer, authority: string, path = unknownUser): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(server.url);
    session.on("error", reject);
    const stream = session.request({ ":path": path, ":authority": authority, authorization: `Bearer ${server.adminToken}` });
    let status = 0;
    let body = "";
    stream.setEncoding("utf8");
    stream.on("response", (headers) => (status = Number(headers[":status"])));
    stream.on("data", (chunk: string) => (body += chunk));
    stream.on("error", reject);
    stream.on("end", () => {
      session.close();
      resolve({ status, body });
    });
  });
}

/** A gRPC transport for a name that resolves to the server, as a rebinding attacker's name does. */
function grpcTransportFor(server: TestServer, name: string) {
  return createGrpcTransport({
    baseUrl: `http://${name}:${server.port}`,
    nodeOptions: { createConnection: () => net.connect(server.port, "127.0.0.1") },
    interceptors: [bearer(server.adminToken)],
  });
}

/** 421, with the error in the body's shape for the path: REST's google.rpc.Status (code 7), or Connect's JSON. */
function expectMisdirected(answer: Answer, host: string, shape: "rest" | "connect" = "rest"): void {
  expect(answer.status).toBe(421);
  const body = JSON.parse(answer.body) as { code: string | number; message: string };
  expect(body.code).toBe(shape === "rest" ? Code.PermissionDenied : "permission_denied");
  expect(body.message).toContain(host);
  expect(body.message).toContain("--allowed-hosts");
}

describe("with the default allowed hosts", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server.close());

  it("answers 421 to an HTTP/1.1 request for another host", async () => {
    expectMisdirected(await http1(server, `rebound.example:${server.port}`), "rebound.example");
  });

  it("answers 421 to an HTTP/2 request for another :authority", async () => {
    expectMisdirected(await http2Request(server, `rebound.example:${server.port}`), "rebound.example");
  });

  it("answers 421 to a request that names no host at all", async () => {
    const answer = await http10WithoutHost(server);
    expect(answer.status).toBe(421);
    expect(JSON.parse(answer.body)).toMatchObject({ code: Code.PermissionDenied });
  });

  it("answers 421 to a Connect call for another host, with Connect's error JSON", async () => {
    const connectGet = "/zitadel.user.v2.UserService/GetUserByID?connect=v1&encoding=json&message=%7B%7D";
    expectMisdirected(await http1(server, "rebound.example", connectGet), "rebound.example", "connect");
  });

  // A gRPC client reads a status from the trailers: a bare 421 reached a Python grpcio client as UNKNOWN "Received
  // http2 header with status: 421", the explanation lost (a trial's first mistake behind a Kubernetes service name).
  it("refuses a gRPC call made under another name with PermissionDenied and the explanation", async () => {
    const client = createClient(UserService, grpcTransportFor(server, "rebound.example"));
    const error = await client.getUserByID({ userId: "404404404" }).then(
      () => undefined,
      (reason: unknown) => ConnectError.from(reason),
    );
    expect(error).toBeInstanceOf(ConnectError);
    expect(error?.code).toBe(Code.PermissionDenied);
    // With the server's own port, as a proxy's upstream name has it: so the hint for a proxy in front.
    expect(error?.rawMessage).toBe(
      `this server does not answer for host "rebound.example:${server.port}"; list the names clients use with --allowed-hosts (VERIFYD_ALLOWED_HOSTS)${proxyHint}`,
    );
  });

  it("serves the loopback names and addresses, with a port or without, in any case, with one trailing dot", async () => {
    for (const host of ["localhost", `127.0.0.1:${server.port}`, `[::1]:${server.port}`, "LocalHost.", `localhost.:${server.port}`]) {
      expect((await http1(server, host)).status, host).toBe(404);
    }
    expect((await http2Request(server, `localhost:${server.port}`)).status).toBe(404);
    expect((await http2Request(server, `[::1]:${server.port}`)).status).toBe(404);
  });

  it("answers health checks under any name, so that probes addressing a pod IP keep working", async () => {
    const healthz = await http1(server, "10.1.2.3", "/healthz");
    expect(healthz.status).toBe(200);
    expect(JSON.parse(healthz.body)).toEqual({ status: "ALIVE" });
    const readyz = await http2Request(server, "10.1.2.3", "/readyz");
    expect(readyz.status).toBe(200);
    expect(JSON.parse(readyz.body)).toEqual({ status: "READY" });

    const health = createClient(Health, grpcTransportFor(server, "10.1.2.3"));
    expect((await health.check({})).status).toBe(Status.SERVING);
  });
});

describe("with allowed hosts configured", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(["--allowed-hosts", "Verify.Example.,[::1]"]);
  });
  afterAll(() => server.close());

  it("serves exactly the configured names, compared as host names", async () => {
    expect((await http1(server, `verify.example:${server.port}`)).status).toBe(404);
    expect((await http2Request(server, "VERIFY.EXAMPLE")).status).toBe(404);
    expect((await http1(server, "[::1]")).status).toBe(404);
    expectMisdirected(await http1(server, "localhost"), "localhost");
    expectMisdirected(await http1(server, "verify.example.evil"), "verify.example.evil");
  });
});

describe("with the check turned off (--allowed-hosts '*')", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(["--allowed-hosts", "*"]);
  });
  afterAll(() => server.close());

  it("serves any host name", async () => {
    expect((await http1(server, "rebound.example")).status).toBe(404);
    expect((await http2Request(server, "rebound.example")).status).toBe(404);
    const client = createClient(UserService, grpcTransportFor(server, "rebound.example"));
    const error = await client.getUserByID({ userId: "404404404" }).then(
      () => undefined,
      (reason: unknown) => ConnectError.from(reason),
    );
    expect(error?.code).toBe(Code.NotFound);
  });
});

// nginx sends its upstream's name (`proxy_pass http://verifyd:8080;` makes Host "verifyd:8080") unless told to forward
// the client's: a trial behind nginx listed the upstream's name in --allowed-hosts, which every request then carries,
// whatever name its client used, so the check let everything through.
describe("refusing a name a proxy in front sends for itself", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(["--allowed-hosts", "id.example.com"]);
  });
  afterAll(() => server.close());

  it.each([
    ["a bare upstream name", "verifyd"],
    ["a bare upstream name and port", "verifyd:8080"],
    ["an IPv4 address", "10.0.0.5:8080"],
    ["an IPv6 address", "[fd00::5]"],
    ["a loopback name", "localhost:8080"],
  ])("tells REST, Connect and HTTP/2 callers refused for %s to have the proxy forward the client's Host", async (_what, host) => {
    const expected = `this server does not answer for host ${JSON.stringify(host)}; list the names clients use with --allowed-hosts (VERIFYD_ALLOWED_HOSTS)${proxyHint}`;
    const rest = await http1(server, host);
    expectMisdirected(rest, host);
    expect((JSON.parse(rest.body) as { message: string }).message).toBe(expected);
    const connect = await http1(server, host, "/zitadel.user.v2.UserService/GetUserByID?connect=v1&encoding=json&message=%7B%7D");
    expectMisdirected(connect, host, "connect");
    expect((JSON.parse(connect.body) as { message: string }).message).toBe(expected);
    const overHttp2 = await http2Request(server, host);
    expectMisdirected(overHttp2, host);
    expect((JSON.parse(overHttp2.body) as { message: string }).message).toBe(expected);
  });

  it("says nothing of a proxy for a dotted name on another port, or none: a name clients may well use", async () => {
    for (const host of ["verify.example.org", "verify.example.org:8443"]) {
      const answer = await http1(server, host);
      expectMisdirected(answer, host);
      expect((JSON.parse(answer.body) as { message: string }).message, host).not.toContain("proxy");
    }
  });
});
