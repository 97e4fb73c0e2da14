import { toJson } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { buildRequestMessage } from "../../src/transport/rest/rest-request.js";
import { createRestRouteTable } from "../../src/transport/rest/rest-routes.js";
import { testProtoRegistry } from "../helpers/test-protos.js";

const library = createRestRouteTable([testProtoRegistry().getService("verifyd.testing.v1.LibraryService")!]);

/** Builds the request for a REST call and returns it as proto3 JSON, for readable expectations. */
function build(httpMethod: string, url: string, body: string | Uint8Array = "") {
  const [path = "", query = ""] = url.split("?");
  const lookup = library.lookup(httpMethod, path);
  if (lookup.kind !== "found") throw new Error(`${httpMethod} ${path}: ${lookup.kind}`);
  const message = buildRequestMessage(lookup.route, {
    bindings: lookup.bindings,
    query: new URLSearchParams(query),
    body: typeof body === "string" ? new TextEncoder().encode(body) : body,
  });
  return toJson(lookup.route.method.input, message);
}

function invalidArgument(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ConnectError);
    expect((error as ConnectError).code).toBe(Code.InvalidArgument);
    return (error as ConnectError).rawMessage;
  }
  throw new Error("expected InvalidArgument");
}

describe("buildRequestMessage", () => {
  describe('body: "*"', () => {
    it("reads the JSON body into the request, snake_case or camelCase", () => {
      const body = JSON.stringify({ book: { title: "T", page_count: "300", tags: ["a"] } });
      expect(build("POST", "/v1/shelves/1/books", body)).toEqual({
        parent: "shelves/1",
        book: { title: "T", pageCount: "300", tags: ["a"] },
      });
      expect(build("POST", "/v1/shelves/1/books", '{"book":{"pageCount":7}}')).toEqual({
        parent: "shelves/1",
        book: { pageCount: "7" },
      });
    });

    it("refuses a field name verifyd's own contract lacks (ZITADEL's skips it: test/e2e/hostile-input.test.ts)", () => {
      const body = JSON.stringify({ book: { title: "T" }, unknownField: 1 });
      expect(invalidArgument(() => build("POST", "/v1/shelves/1/books", body))).toBe(
        'invalid JSON body: cannot decode message verifyd.testing.v1.CreateBookRequest from JSON: key "unknownField" is unknown',
      );
    });

    it("lets path variables override the body", () => {
      expect(build("POST", "/v1/shelves/1/books", '{"parent":"shelves/evil"}')).toEqual({ parent: "shelves/1" });
    });

    it("takes no query parameters", () => {
      expect(build("POST", "/v1/shelves/1/books?book.title=Q", '{"book":{"title":"T"}}')).toEqual({
        parent: "shelves/1",
        book: { title: "T" },
      });
    });

    it("accepts an empty body", () => {
      expect(build("POST", "/v1/shelves/1/books", "")).toEqual({ parent: "shelves/1" });
      expect(build("POST", "/v1/shelves/1/books", " \n")).toEqual({ parent: "shelves/1" });
    });

    it("binds a template with a verb", () => {
      expect(build("POST", "/v1/shelves/1/books/2:archive", '{"reason":"old"}')).toEqual({
        name: "shelves/1/books/2",
        reason: "old",
      });
    });
  });

  describe("a named body field", () => {
    it("reads the body into that field, sets the nested path field, and takes other query parameters", () => {
      const body = JSON.stringify({ name: "shelves/x/books/y", title: "New" });
      expect(build("PATCH", "/v1/shelves/1/books/2?requestId=r1&book.title=ignored", body)).toEqual({
        book: { name: "shelves/1/books/2", title: "New" },
        requestId: "r1",
      });
    });
  });

  describe("query parameters", () => {
    it("sets scalars, repeated fields, nested fields, enums and well-known types, by JSON or proto name", () => {
      const query = [
        "pageSize=10",
        "tags=a",
        "tags=b",
        "filter.genre=GENRE_POETRY",
        "filter.min_pages=100",
        "filter.publishedAfter=2025-01-02T03:04:05Z",
        "include_archived=true",
        "genre=1",
        "unknown=ignored",
      ].join("&");
      expect(build("GET", `/v1/shelves/1/books?${query}`)).toEqual({
        parent: "shelves/1",
        pageSize: 10,
        tags: ["a", "b"],
        filter: { genre: "GENRE_POETRY", minPages: "100", publishedAfter: "2025-01-02T03:04:05Z" },
        includeArchived: true,
        genre: "GENRE_FICTION",
      });
    });

    it("ignores parameters for fields the path sets", () => {
      expect(build("GET", "/v1/shelves/1/books?parent=shelves/evil")).toEqual({ parent: "shelves/1" });
    });

    it.each([
      ["pageSize=ten", 'invalid parameter "pageSize"'],
      ["filter.genre=GENRE_NOVEL", 'invalid parameter "filter.genre"'],
      ["include_archived=yes", 'invalid parameter "include_archived"'],
      ["pageSize=1&pageSize=2", 'invalid parameter "pageSize": given 2 times for a singular field'],
      ["filter=x", 'invalid parameter "filter": a URL cannot set this field'],
    ])("rejects %s", (query, message) => {
      expect(invalidArgument(() => build("GET", `/v1/shelves/1/books?${query}`))).toContain(message);
    });
  });

  describe("path variables", () => {
    it("converts to the field's type with JSON rules", () => {
      expect(build("GET", "/v1/shelves/42")).toEqual({ shelfId: "42" });
      expect(invalidArgument(() => build("GET", "/v1/shelves/forty-two"))).toContain('invalid parameter "shelf_id"');
    });

    it("are percent-decoded: fully for one segment, except %2F for several", () => {
      expect(build("GET", "/v1/books/a%2Fb%20c")).toEqual({ name: "a/b c" });
      expect(build("GET", "/v1/buckets/b%20x/any/dir%20a/x%2Fy")).toEqual({ bucket: "b x", path: "dir a/x%2Fy" });
    });
  });

  describe("bad bodies", () => {
    it("rejects a body on a route without one, but accepts an empty body there", () => {
      expect(invalidArgument(() => build("DELETE", "/v1/shelves/1/books/2", '{"force":true}'))).toContain(
        "takes no request body",
      );
      expect(build("DELETE", "/v1/shelves/1/books/2", "")).toEqual({ name: "shelves/1/books/2" });
    });

    it("rejects malformed JSON and JSON of the wrong shape", () => {
      expect(invalidArgument(() => build("POST", "/v1/shelves/1/books", '{"book":'))).toContain("invalid JSON body");
      expect(invalidArgument(() => build("POST", "/v1/shelves/1/books", '{"book":{"pageCount":"many"}}'))).toContain(
        "invalid JSON body",
      );
      expect(invalidArgument(() => build("PATCH", "/v1/shelves/1/books/2", "[1]"))).toContain("invalid JSON body");
    });

    it("rejects a body that is not UTF-8", () => {
      expect(invalidArgument(() => build("POST", "/v1/shelves/1/books", new Uint8Array([0x7b, 0xff, 0x7d])))).toContain(
        "not valid UTF-8",
      );
    });
  });
});
