// The REST gateway mounted as connectNodeAdapter's fallback, serving a test service that only exists as a descriptor
// built at test time, over HTTP/1.1 (fetch) and HTTP/2; the adapter's own protocols must still work beside it.
import * as http from "node:http";
import * as http2 from "node:http2";
import type { AddressInfo, Socket } from "node:net";
import { gzipSync } from "node:zlib";
import {
  type DescMethodUnary,
  type JsonObject,
  type Message,
  fromJson,
  toJson,
} from "@bufbuild/protobuf";
import {
  Code,
  ConnectError,
  type ConnectRouter,
  type HandlerContext,
  type Interceptor,
  type ServiceImplSpec,
  createMethodImplSpec,
} from "@connectrpc/connect";
import {
  connectNodeAdapter,
  createConnectTransport,
  createGrpcTransport,
  createGrpcWebTransport,
} from "@connectrpc/connect-node";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { ErrorInfoSchema } from "../../src/gen/google/rpc/error_details_pb.js";
import { type RequestContext, requestContextKey } from "../../src/api/request-context.js";
import { createRestGateway } from "../../src/transport/rest/rest-gateway.js";
import { testProtoRegistry } from "../helpers/test-protos.js";

const library = testProtoRegistry().getService("verifyd.testing.v1.LibraryService")!;
const rpc = (name: string) => library.methods.find((method) => method.name === name) as DescMethodUnary;

type Handler = (request: JsonObject, method: DescMethodUnary) => JsonObject;

const handlers: Record<string, Handler> = {
  GetBook: ({ name }) => ({
    name: name ?? "",
    title: "Dune",
    pageCount: "412",
    createTime: "2025-08-28T10:46:22.123456Z",
    archived: false,
    genre: "GENRE_UNSPECIFIED",
  }),
  ListBooks: (request) => ({ request }),
  CreateBook: ({ parent, book }) => ({ ...(book as JsonObject), name: `${parent}/books/new` }),
  UpdateBook: ({ book }) => book as JsonObject,
  DeleteBook: ({ force }) => {
    if (force) return {};
    throw new ConnectError("Book is on loan", Code.FailedPrecondition, {}, [
      { desc: ErrorInfoSchema, value: { reason: "BOOK_ON_LOAN", domain: "library.test" } },
    ]);
  },
};

const implementations = Object.entries(handlers).map(([name, handle]) => {
  const method = rpc(name);
  return createMethodImplSpec(method, (request: Message, context: HandlerContext) => {
    context.responseHeader.set("x-book-source", "test");
    if (context.requestHeader.has("x-many-headers")) {
      context.responseHeader.append("x-book-source", "shelf");
      context.responseHeader.append("set-cookie", "a=1");
      context.responseHeader.append("set-cookie", "b=2");
    }
    return fromJson(method.output, handle(toJson(method.input, request) as JsonObject, method));
  });
});
const routes = (router: ConnectRouter) => {
  for (const spec of implementations) router.rpc(spec.method, spec.impl as never);
};
const services: ServiceImplSpec[] = [
  {
    service: rpc(Object.keys(handlers)[0] as string).parent,
    methods: Object.fromEntries(implementations.map((spec) => [spec.method.localName, spec])),
  },
];

/** What the interceptor saw: REST calls must pass through the same interceptors as the other protocols. */
const seen: { method: string; context: RequestContext | undefined }[] = [];
const recorder: Interceptor = (next) => async (req) => {
  const context = req.contextValues.get(requestContextKey);
  seen.push({ method: req.method.name, context });
  try {
    const res = await next(req);
    if (context) res.header.set("x-request-id", context.requestId);
    return res;
  } catch (error) {
    const connectError = ConnectError.from(error);
    if (context) connectError.metadata.set("x-request-id", context.requestId);
    throw connectError;
  }
};

const maxBodyBytes = 1024;
const handler = connectNodeAdapter({
  routes,
  interceptors: [recorder],
  fallback: createRestGateway({ services, interceptors: [recorder], maxBodyBytes }),
});

let h1Server: http.Server;
let h2Server: http2.Http2Server;
let h1Url: string;
let h2Url: string;

// Clients keep connections alive (fetch, the gRPC transport's HTTP/2 session); closing must not wait for them.
const sockets = new Set<Socket>();

const listen = async (server: http.Server | http2.Http2Server) => {
  server.on("connection", (socket: Socket) => sockets.add(socket));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
};

beforeAll(async () => {
  h1Server = http.createServer(handler);
  h2Server = http2.createServer(handler);
  h1Url = await listen(h1Server);
  h2Url = await listen(h2Server);
});

afterAll(async () => {
  const closed = [h1Server, h2Server].map((server) => new Promise((resolve) => server.close(resolve)));
  for (const socket of sockets) socket.destroy();
  await Promise.all(closed);
});

beforeEach(() => {
  seen.length = 0;
});

async function rest(method: string, path: string, init: { body?: string; headers?: Record<string, string> } = {}) {
  const response = await fetch(`${h1Url}${path}`, { method, ...init });
  return { status: response.status, headers: response.headers, json: (await response.json()) as JsonObject };
}

describe("REST gateway", () => {
  it("answers 200 with proto3 JSON: int64 as a string, RFC 3339 timestamps, zero values left out", async () => {
    const response = await rest("GET", "/v1/shelves/1/books/2", { headers: { "x-client": "e2e" } });
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("application/json");
    expect(response.json).toEqual({
      name: "shelves/1/books/2",
      title: "Dune",
      pageCount: "412",
      createTime: "2025-08-28T10:46:22.123456Z",
    });
  });

  it("runs the interceptors with a RequestContext for REST, and forwards the handler's response headers", async () => {
    const response = await rest("GET", "/v1/books/7", { headers: { "x-client": "e2e" } });
    expect(seen).toHaveLength(1);
    const { method, context } = seen[0]!;
    expect(method).toBe("GetBook");
    expect(context).toMatchObject({ protocol: "rest", peer: { address: "127.0.0.1" } });
    expect(context!.headers.get("x-client")).toBe("e2e");
    expect(response.headers.get("x-book-source")).toBe("test");
    expect(response.headers.get("x-request-id")).toBe(context!.requestId);
  });

  it("joins a header the handler gave twice, and sends each Set-Cookie on a line of its own", async () => {
    const response = await rest("GET", "/v1/books/7", { headers: { "x-many-headers": "1" } });
    expect(response.status).toBe(200);
    expect(response.headers.get("x-book-source")).toBe("test, shelf");
    expect(response.headers.getSetCookie()).toEqual(["a=1", "b=2"]);
  });

  it("lets path variables override the body", async () => {
    const body = JSON.stringify({ parent: "shelves/evil", book: { title: "T", page_count: 12 } });
    const response = await rest("POST", "/v1/shelves/1/books", { body, headers: { "content-type": "application/json" } });
    expect(response.json).toEqual({ name: "shelves/1/books/new", title: "T", pageCount: "12" });
  });

  it("binds query parameters", async () => {
    const response = await rest("GET", "/v1/shelves/1/books?pageSize=5&tags=a&tags=b&filter.genre=GENRE_POETRY&x=1");
    expect(response.json).toEqual({
      request: { parent: "shelves/1", pageSize: 5, tags: ["a", "b"], filter: { genre: "GENRE_POETRY" } },
    });
  });

  it("binds a named body field and a nested path field", async () => {
    const response = await rest("PATCH", "/v1/shelves/1/books/2", {
      body: '{"title":"New"}',
      headers: { "content-type": "application/json" },
    });
    expect(response.json).toEqual({ name: "shelves/1/books/2", title: "New" });
  });

  it("accepts an empty body labelled application/json", async () => {
    const response = await rest("POST", "/v1/shelves/1/books", { headers: { "content-type": "application/json" } });
    expect(response).toMatchObject({ status: 200, json: { name: "shelves/1/books/new" } });
  });

  it("refuses a body route's request without application/json with 415 and code 3, empty or not", async () => {
    const unlabelled = await rest("POST", "/v1/shelves/1/books");
    expect(unlabelled.status).toBe(415);
    expect(unlabelled.json).toMatchObject({ code: Code.InvalidArgument, message: expect.stringContaining("no content type") });
    const form = await rest("PATCH", "/v1/shelves/1/books/2", {
      body: "title=New",
      headers: { "content-type": "application/x-www-form-urlencoded" },
    });
    expect(form.status).toBe(415);
    expect(form.json).toMatchObject({ message: expect.stringContaining("application/x-www-form-urlencoded") });
    expect(seen).toHaveLength(0);
  });

  it("answers malformed JSON with 400 and code 3", async () => {
    const response = await rest("POST", "/v1/shelves/1/books", { body: '{"book":', headers: { "content-type": "application/json" } });
    expect(response.status).toBe(400);
    expect(response.json).toMatchObject({ code: Code.InvalidArgument, message: expect.stringContaining("invalid JSON body") });
    expect(seen).toHaveLength(0);
  });

  it("refuses a body labelled text/plain with 415 and code 3", async () => {
    // fetch labels a string body text/plain unless told otherwise.
    const response = await rest("POST", "/v1/shelves/1/books", { body: '{"book":{}}' });
    expect(response.status).toBe(415);
    expect(response.json).toMatchObject({ code: Code.InvalidArgument, message: expect.stringContaining("text/plain") });
  });

  it("decodes a gzip body, and refuses an encoding it does not know with 415 naming it", async () => {
    const body = gzipSync(JSON.stringify({ book: { title: "Zipped" } }));
    const response = await fetch(`${h1Url}/v1/shelves/1/books`, {
      method: "POST",
      headers: { "content-type": "application/json", "content-encoding": "gzip" },
      body,
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ title: "Zipped" });

    const unknown = await rest("POST", "/v1/shelves/1/books", {
      body: "{}",
      headers: { "content-type": "application/json", "content-encoding": "zstd" },
    });
    expect(unknown.status).toBe(415);
    expect(unknown.json).toMatchObject({ code: Code.InvalidArgument, message: expect.stringContaining('"zstd"') });
  });

  it("answers a route whose RPC the routes did not register with 501 and code 12", async () => {
    const response = await rest("GET", "/v1/shelves/42");
    expect(response.status).toBe(501);
    expect(response.json).toMatchObject({ code: Code.Unimplemented });
  });

  it("answers an unknown path with 404 and code 5", async () => {
    const response = await rest("GET", "/v1/unknown");
    expect(response).toEqual({
      status: 404,
      headers: expect.anything(),
      json: { code: Code.NotFound, message: "Not Found" },
    });
  });

  it("answers a known path with another method with 405, Allow and code 12", async () => {
    const response = await rest("PUT", "/v1/shelves/1/books/2");
    expect(response.status).toBe(405);
    expect(response.headers.get("allow")?.split(", ").sort()).toEqual(["DELETE", "GET", "HEAD", "PATCH"]);
    expect(response.json).toEqual({ code: Code.Unimplemented, message: "Method Not Allowed" });
  });

  it("answers a body over the limit with 413 and code 8, by Content-Length", async () => {
    const body = JSON.stringify({ book: { title: "x".repeat(maxBodyBytes) } });
    const response = await rest("POST", "/v1/shelves/1/books", { body, headers: { "content-type": "application/json" } });
    expect(response.status).toBe(413);
    expect(response.json).toMatchObject({ code: Code.ResourceExhausted });
    expect(seen).toHaveLength(0);
  });

  it("answers a body over the limit with 413 and code 8, by counting a chunked upload", async () => {
    const { status, json } = await new Promise<{ status: number; json: JsonObject }>((resolve, reject) => {
      const options = { method: "POST", headers: { "content-type": "application/json" } };
      const request = http.request(`${h1Url}/v1/shelves/1/books`, options, (response) => {
        let text = "";
        response.on("data", (chunk: Buffer) => (text += chunk.toString()));
        response.on("end", () => resolve({ status: response.statusCode!, json: JSON.parse(text) as JsonObject }));
      });
      request.on("error", reject);
      request.write('{"book":{"title":"');
      request.write("x".repeat(maxBodyBytes));
      request.end('"}}');
    });
    expect(status).toBe(413);
    expect(json).toMatchObject({ code: Code.ResourceExhausted });
  });

  it("answers a handler error with the table's status and its details as google.rpc.Status", async () => {
    const response = await rest("DELETE", "/v1/shelves/1/books/2");
    expect(response.status).toBe(400);
    expect(response.json).toEqual({
      code: Code.FailedPrecondition,
      message: "Book is on loan",
      details: [{ "@type": "type.googleapis.com/google.rpc.ErrorInfo", reason: "BOOK_ON_LOAN", domain: "library.test" }],
    });
    expect(response.headers.get("x-request-id")).toBe(seen[0]!.context!.requestId);
    expect(await rest("DELETE", "/v1/shelves/1/books/2?force=true")).toMatchObject({ status: 200, json: {} });
  });

  it("serves REST over HTTP/2 as well", async () => {
    const session = http2.connect(h2Url);
    try {
      const { status, body } = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        const stream = session.request({ ":method": "GET", ":path": "/v1/books/9" });
        let body = "";
        let status = 0;
        stream.on("response", (headers) => (status = Number(headers[":status"])));
        stream.on("data", (chunk: Buffer) => (body += chunk.toString()));
        stream.on("end", () => resolve({ status, body }));
        stream.on("error", reject);
      });
      expect(status).toBe(200);
      expect(JSON.parse(body)).toMatchObject({ name: "9", pageCount: "412" });
    } finally {
      session.close();
    }
  });
});

describe("the adapter beside the gateway", () => {
  const getBook = rpc("GetBook");
  const request = fromJson(getBook.input, { name: "shelves/1/books/2" });

  it.each([
    ["Connect", () => createConnectTransport({ baseUrl: h1Url, httpVersion: "1.1" })],
    ["gRPC-Web", () => createGrpcWebTransport({ baseUrl: h1Url, httpVersion: "1.1" })],
    ["gRPC", () => createGrpcTransport({ baseUrl: h2Url })],
  ])("still serves %s at /pkg.Service/Method", async (_name, transport) => {
    const response = await transport().unary(getBook, undefined, undefined, undefined, request);
    expect(toJson(getBook.output, response.message)).toMatchObject({ name: "shelves/1/books/2", pageCount: "412" });
    expect(seen[0]?.context).toBeUndefined();
  });
});
