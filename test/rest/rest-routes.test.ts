import { describe, expect, it } from "vitest";
import { createRestRouteTable } from "../../src/transport/rest/rest-routes.js";
import { UserService } from "../../src/gen/zitadel/user/v2/user_service_pb.js";
import { testProtoRegistry } from "../helpers/test-protos.js";

const registry = testProtoRegistry();
const service = (name: string) => registry.getService(`verifyd.testing.v1.${name}`)!;
const library = createRestRouteTable([service("LibraryService")]);

const found = (httpMethod: string, path: string) => {
  const lookup = library.lookup(httpMethod, path);
  if (lookup.kind !== "found") throw new Error(`${httpMethod} ${path}: ${lookup.kind}`);
  return { rpc: lookup.route.method.name, bindings: Object.fromEntries(lookup.bindings) };
};

describe("createRestRouteTable", () => {
  it("reads every pattern kind, additional bindings and body", () => {
    const routes = library.routes.map((route) => ({
      rpc: route.method.name,
      http: `${route.httpMethod} ${route.template.source}`,
      body: route.body.kind === "field" ? route.body.field.name : route.body.kind,
    }));
    expect(routes).toEqual(
      expect.arrayContaining([
        { rpc: "GetShelf", http: "GET /v1/shelves/{shelf_id}", body: "none" },
        { rpc: "GetBook", http: "GET /v1/{name=shelves/*/books/*}", body: "none" },
        { rpc: "GetBook", http: "GET /v1/books/{name}", body: "none" },
        { rpc: "GetFeaturedBook", http: "GET /v1/books/featured", body: "none" },
        { rpc: "ListBooks", http: "GET /v1/{parent=shelves/*}/books", body: "none" },
        { rpc: "SearchBooks", http: "SEARCH /v1/books", body: "request" },
        { rpc: "CreateBook", http: "POST /v1/{parent=shelves/*}/books", body: "request" },
        { rpc: "UpdateBook", http: "PATCH /v1/{book.name=shelves/*/books/*}", body: "book" },
        { rpc: "ArchiveBook", http: "POST /v1/{name=shelves/*/books/*}:archive", body: "request" },
        { rpc: "DeleteBook", http: "DELETE /v1/{name=shelves/*/books/*}", body: "none" },
        { rpc: "GetFile", http: "GET /v1/buckets/{bucket}/*/{path=**}", body: "none" },
      ]),
    );
    expect(routes).toHaveLength(11);
  });

  it("resolves path variables to field paths of the request", () => {
    const update = library.routes.find((route) => route.method.name === "UpdateBook")!;
    expect(update.pathFields.get("book.name")?.map((field) => field.name)).toEqual(["book", "name"]);
  });

  it("finds a route and its bindings", () => {
    expect(found("GET", "/v1/shelves/1/books/2")).toEqual({ rpc: "GetBook", bindings: { name: "shelves/1/books/2" } });
    expect(found("GET", "/v1/books/2")).toEqual({ rpc: "GetBook", bindings: { name: "2" } });
    expect(found("PATCH", "/v1/shelves/1/books/2")).toEqual({
      rpc: "UpdateBook",
      bindings: { "book.name": "shelves/1/books/2" },
    });
    expect(found("POST", "/v1/shelves/1/books/2:archive")).toEqual({
      rpc: "ArchiveBook",
      bindings: { name: "shelves/1/books/2" },
    });
    expect(found("SEARCH", "/v1/books")).toEqual({ rpc: "SearchBooks", bindings: {} });
    expect(found("GET", "/v1/buckets/b/v2/a/b.txt")).toEqual({ rpc: "GetFile", bindings: { bucket: "b", path: "a/b.txt" } });
  });

  it("tells a known path with another method from an unknown path", () => {
    expect(library.lookup("PUT", "/v1/shelves/1/books/2")).toEqual({
      kind: "method-not-allowed",
      allowedMethods: expect.arrayContaining(["GET", "PATCH", "DELETE"]),
    });
    expect(library.lookup("GET", "/v1/nothing/here")).toEqual({ kind: "not-found" });
  });

  it("finds a ** route for paths longer than every template, and nothing for paths of no template's length", () => {
    const deep = "/v1/buckets/b/v2/" + Array.from({ length: 40 }, (_, index) => `d${index}`).join("/");
    expect(found("GET", deep)).toEqual({ rpc: "GetFile", bindings: { bucket: "b", path: deep.slice("/v1/buckets/b/v2/".length) } });
    expect(found("GET", "/v1/buckets/b/v2")).toEqual({ rpc: "GetFile", bindings: { bucket: "b", path: "" } });
    expect(library.lookup("GET", "/v1/shelves/1/books/2/pages/3/lines/4")).toEqual({ kind: "not-found" });
    expect(library.lookup("PUT", deep)).toEqual({ kind: "method-not-allowed", allowedMethods: ["GET", "HEAD"] });
    expect(library.lookup("GET", "")).toEqual({ kind: "not-found" });
  });

  it("prefers literal segments over wildcards when templates overlap", () => {
    expect(found("GET", "/v1/books/featured")).toEqual({ rpc: "GetFeaturedBook", bindings: {} });
    expect(found("GET", "/v1/books/other")).toEqual({ rpc: "GetBook", bindings: { name: "other" } });
  });

  it("serves the UserService RPCs that have a REST path, and only those", () => {
    const table = createRestRouteTable([UserService]);
    // As in ZITADEL, CreateUser and the personal access token RPCs have no REST path: Connect's JSON serves them.
    expect(table.routes.map((route) => route.method.name).sort()).toEqual(
      [
        "AddHumanUser",
        "DeactivateUser",
        "DeleteUser",
        "GetUserByID",
        "ListUsers",
        "LockUser",
        "ReactivateUser",
        "RemovePhone",
        "ResendEmailCode",
        "ResendPhoneCode",
        "SendEmailCode",
        "SetEmail",
        "SetPassword",
        "SetPhone",
        "UnlockUser",
        "VerifyEmail",
        "VerifyPhone",
      ].sort(),
    );
  });

  it.each([
    ["NestedBindingService", "additional_bindings cannot nest"],
    ["ResponseBodyService", "response_body is not supported"],
    ["UnknownVariableService", 'variable "isbn" is not a singular scalar field'],
    ["RepeatedVariableService", 'variable "tags" is not a singular scalar field'],
    ["UnknownBodyService", 'body "isbn" is not a field'],
    ["BadTemplateService", '"**" must be the last segment'],
  ])("refuses %s at start-up", (name, reason) => {
    expect(() => createRestRouteTable([service(name)])).toThrow(reason);
  });
});
