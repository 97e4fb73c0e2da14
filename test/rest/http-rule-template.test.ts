import { describe, expect, it } from "vitest";
import { RequestPath, matchPathTemplate, parsePathTemplate } from "../../src/transport/rest/http-rule-template.js";

const match = (template: string, path: string) => {
  const bindings = matchPathTemplate(parsePathTemplate(template), new RequestPath(path));
  return bindings && Object.fromEntries(bindings);
};

describe("parsePathTemplate", () => {
  it("flattens variables into the segments they capture", () => {
    expect(parsePathTemplate("/v1/{name=shelves/*/books/*}:archive")).toEqual({
      source: "/v1/{name=shelves/*/books/*}:archive",
      segments: [
        { kind: "literal", value: "v1" },
        { kind: "literal", value: "shelves" },
        { kind: "wildcard" },
        { kind: "literal", value: "books" },
        { kind: "wildcard" },
      ],
      variables: [{ fieldPath: "name", start: 1, end: 5 }],
      verb: "archive",
    });
  });

  it("reads {var} as {var=*} and accepts nested field paths and **", () => {
    const template = parsePathTemplate("/v1/{book.name}/*/{path=**}");
    expect(template.segments).toEqual([
      { kind: "literal", value: "v1" },
      { kind: "wildcard" },
      { kind: "wildcard" },
      { kind: "deep-wildcard" },
    ]);
    expect(template.variables).toEqual([
      { fieldPath: "book.name", start: 1, end: 2 },
      { fieldPath: "path", start: 3, end: 4 },
    ]);
    expect(template.verb).toBeUndefined();
  });

  it("percent-decodes literals", () => {
    expect(parsePathTemplate("/v1/%7Euser").segments).toEqual([
      { kind: "literal", value: "v1" },
      { kind: "literal", value: "~user" },
    ]);
  });

  it.each([
    ["v1/books", 'expected "/"'],
    ["/v1/**/books", '"**" must be the last segment'],
    ["/v1/{name}/{name}", 'variable "name" appears twice'],
    ["/v1/{a={b}}", "variables cannot nest"],
    ["/v1//books", "expected a literal"],
    ["/v1/{name", 'expected "}"'],
    ["/v1/{=*}", "expected a field path"],
    ["/v1/books:", "expected a literal"],
    ["/v1/books?x=1", 'unexpected "?"'],
    ["/v1/%zz", "bad percent-encoding"],
  ])("rejects %s", (template, reason) => {
    expect(() => parsePathTemplate(template)).toThrow(reason);
  });
});

describe("matchPathTemplate", () => {
  it("matches literals and binds single-segment variables", () => {
    expect(match("/v1/users/{user_id}", "/v1/users/42")).toEqual({ user_id: "42" });
    expect(match("/v1/users/{user_id}", "/v1/users")).toBeUndefined();
    expect(match("/v1/users/{user_id}", "/v1/users/42/phone")).toBeUndefined();
    expect(match("/v1/users/{user_id}", "/v2/users/42")).toBeUndefined();
  });

  it("matches a bare * segment without binding it", () => {
    expect(match("/v1/buckets/{bucket}/*/{path=**}", "/v1/buckets/b/any/x")).toEqual({ bucket: "b", path: "x" });
  });

  it("does not match an empty segment with *", () => {
    expect(match("/v1/users/{user_id}", "/v1/users/")).toBeUndefined();
  });

  it("binds ** to the rest of the path, possibly empty", () => {
    expect(match("/v1/files/{path=**}", "/v1/files/a/b/c.txt")).toEqual({ path: "a/b/c.txt" });
    expect(match("/v1/files/{path=**}", "/v1/files")).toEqual({ path: "" });
    expect(match("/v1/{name=files/**}", "/v1/files/a/b")).toEqual({ name: "files/a/b" });
  });

  it("binds a multi-segment variable to the segments it spans", () => {
    expect(match("/v1/{name=shelves/*/books/*}", "/v1/shelves/1/books/2")).toEqual({ name: "shelves/1/books/2" });
    expect(match("/v1/{name=shelves/*/books/*}", "/v1/shelves/1/maps/2")).toBeUndefined();
  });

  it("splits the verb off the last segment", () => {
    const template = "/v1/{name=shelves/*/books/*}:archive";
    expect(match(template, "/v1/shelves/1/books/2:archive")).toEqual({ name: "shelves/1/books/2" });
    expect(match(template, "/v1/shelves/1/books/2")).toBeUndefined();
    expect(match(template, "/v1/shelves/1/books/2:restore")).toBeUndefined();
    // Without a verb in the template, a colon is part of the value.
    expect(match("/v1/books/{name}", "/v1/books/a:b")).toEqual({ name: "a:b" });
  });

  it("fully decodes single-segment variables", () => {
    expect(match("/v1/users/{id}", "/v1/users/a%2Fb%20c%3A")).toEqual({ id: "a/b c:" });
  });

  it("decodes multi-segment variables except %2F", () => {
    expect(match("/v1/files/{path=**}", "/v1/files/dir%20one/a%2fb%2Fc")).toEqual({ path: "dir one/a%2fb%2Fc" });
    expect(match("/v1/{name=shelves/*}", "/v1/shelves/x%2Fy%41")).toEqual({ name: "shelves/x%2FyA" });
  });

  it("compares literals decoded", () => {
    expect(match("/v1/~user", "/v1/%7Euser")).toEqual({});
  });

  it("does not match malformed percent-encoding", () => {
    expect(match("/v1/users/{id}", "/v1/users/%E0%A4%A")).toBeUndefined();
  });

  it("matches one request path against templates in turn, with and without a verb, as a route lookup does", () => {
    const path = new RequestPath("/v1/users/a%20b:archive");
    const templates = ["/v1/users/{id}:archive", "/v1/users/{id}", "/v1/{name=users/*}:archive", "/v1/groups/{id}:archive"];
    expect(templates.map((template) => matchPathTemplate(parsePathTemplate(template), path))).toEqual([
      new Map([["id", "a b"]]),
      new Map([["id", "a b:archive"]]),
      new Map([["name", "users/a b"]]),
      undefined,
    ]);
  });
});
