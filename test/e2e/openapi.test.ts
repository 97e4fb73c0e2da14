// GET /openapi.json from a running server: public, the checked-in file, valid OpenAPI 3.1 for an independent parser,
// and in step with the REST gateway both ways (every route documented, every documented operation routed).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { compileErrors, dereference, validate } from "@readme/openapi-parser";
import type { DescMethod } from "@bufbuild/protobuf";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { servedServices } from "../../src/openapi/served-services.js";
import { createRestRouteTable } from "../../src/transport/rest/rest-routes.js";
import { type TestServer, startTestServer } from "../helpers/test-server.js";

type Operation = { summary: string; tags: string[] };

let server: TestServer;
let text: string;

beforeAll(async () => {
  server = await startTestServer();
  const response = await fetch(`${server.url}/openapi.json`);
  expect(response.status).toBe(200);
  expect(response.headers.get("content-type")).toBe("application/json");
  text = await response.text();
});
afterAll(() => server.close());

describe("GET /openapi.json", () => {
  it("needs no token and serves the checked-in document", () => {
    expect(text).toBe(readFileSync(join(import.meta.dirname, "../../openapi.json"), "utf8"));
  });

  it("is valid OpenAPI 3.1", async () => {
    const result = await validate(JSON.parse(text));
    expect(result.valid, result.valid ? "" : compileErrors(result)).toBe(true);
    expect(result.warnings).toEqual([]);
    expect(JSON.parse(text).openapi).toBe("3.1.0");
  });

  it("requires a body wherever the gateway needs its JSON label: POST, PUT and PATCH, not DELETE", async () => {
    const document = JSON.parse(text) as { paths: Record<string, Record<string, { requestBody?: { required: boolean } }>> };
    const optional = Object.values(document.paths).flatMap((operations) =>
      Object.entries(operations).filter(([, operation]) => operation.requestBody?.required === false).map(([method]) => method),
    );
    expect(new Set(optional)).toEqual(new Set(["delete"]));
    expect(document.paths["/v2/users/{userId}/phone/verify"]?.post?.requestBody?.required).toBe(true);
  });

  it("documents VerifyPhone with its request body", async () => {
    const document = await dereference(JSON.parse(text));
    const operation = document.paths?.["/v2/users/{userId}/phone/verify"]?.post as
      | { requestBody: { content: Record<string, { schema: { properties: Record<string, unknown> } }> } }
      | undefined;
    expect(operation).toBeDefined();
    expect(Object.keys(operation!.requestBody.content["application/json"]!.schema.properties)).toContain("verificationCode");
  });

  it("says which fields verifyd does not support yet, and a request setting one is answered as it says", async () => {
    const document = await dereference(JSON.parse(text));
    const searchQuery = document.components?.schemas?.["zitadel.user.v2.SearchQuery"] as { properties: Record<string, { description?: string }> };
    expect(searchQuery.properties.loginNameQuery?.description).toMatch(/^Not supported by verifyd yet: .* answered 501/);
    expect(searchQuery.properties.userNameQuery?.description ?? "").not.toMatch(/Not supported/);
    const answer = await fetch(`${server.url}/v2/users`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${server.adminToken}` },
      body: JSON.stringify({ queries: [{ loginNameQuery: { loginName: "ada" } }] }),
    });
    expect(answer.status).toBe(501);
  });

  it("declares the bodiless 415 a Connect path answers a request that is not JSON", async () => {
    const document = JSON.parse(text) as { paths: Record<string, { post: { responses: Record<string, { content?: unknown }> } }> };
    expect(document.paths["/zitadel.user.v2.UserService/CreateUser"]?.post.responses["415"]).toEqual({ description: expect.any(String) });
    const answer = await fetch(`${server.url}/zitadel.user.v2.UserService/CreateUser`, {
      method: "POST",
      headers: { authorization: `Bearer ${server.adminToken}` },
      body: "{}",
    });
    expect(answer.status).toBe(415);
    expect(await answer.text()).toBe("");
  });

  it("gives strings the lengths validation holds them to: a code of 1 to 20 characters", async () => {
    const document = await dereference(JSON.parse(text));
    const request = document.components?.schemas?.["zitadel.user.v2.VerifyPhoneRequest"] as { properties: Record<string, unknown> };
    expect(request.properties.verificationCode).toEqual({ type: "string", minLength: 1, maxLength: 20 });
  });

  it("documents the password login, and a login made as it says answers what it says", async () => {
    const document = await dereference(JSON.parse(text));
    const operation = document.paths?.["/oauth2/token"]?.post as unknown as {
      security: unknown[];
      requestBody: { content: Record<string, { schema: { required: string[] } }> };
      responses: Record<string, { content: Record<string, { schema: { required: string[]; properties: Record<string, { enum?: string[] }> } }> }>;
    };
    expect(operation.security).toEqual([]);
    const form = operation.requestBody.content["application/x-www-form-urlencoded"]!.schema;
    expect(form.required).toEqual(["grant_type", "username", "password"]);
    const asked = { grant_type: "password", username: "nobody-documented", password: "wrong horse battery" };
    const refused = await fetch(`${server.url}/oauth2/token`, { method: "POST", body: new URLSearchParams(asked) });
    const refusal = (await refused.json()) as { error: string };
    expect(refused.status).toBe(400);
    expect(operation.responses["400"]!.content["application/json"]!.schema.properties.error!.enum).toContain(refusal.error);
    const granted = operation.responses["200"]!.content["application/json"]!.schema;
    const retries = document.paths?.["/oauth2/token"]?.post?.responses as Record<string, { headers?: Record<string, unknown> }>;
    expect(Object.keys(retries["429"]?.headers ?? {})).toEqual(["Retry-After"]);
    expect(Object.keys(retries["503"]?.headers ?? {})).toEqual(["Retry-After"]);
    expect(granted.required).toEqual(["id", "access_token", "expires_in", "token_type"]);
  });

  it("documents each route of the gateway, and routes each documented operation", () => {
    const paths = JSON.parse(text).paths as Record<string, Record<string, Operation>>;
    const table = createRestRouteTable(servedServices);
    const all = Object.entries(paths).flatMap(([path, item]) =>
      Object.entries(item).map(([method, operation]) => ({ path, method: method.toUpperCase(), operation })),
    );
    // The unary RPCs without a route are documented at their Connect paths: each once, and only those.
    const atConnectPath = ({ path }: { path: string }) => /^\/[a-z0-9_.]+\.[A-Z]\w*\/\w+$/.test(path);
    const routed = new Set<DescMethod>(table.routes.map((route) => route.method));
    const unrouted = servedServices.flatMap((service) =>
      service.methods.filter((method) => method.methodKind === "unary" && !routed.has(method)).map((method) => `/${service.typeName}/${method.name}`),
    );
    expect(all.filter(atConnectPath).map(({ path, method }) => `${method} ${path}`).sort()).toEqual(unrouted.map((path) => `POST ${path}`).sort());
    expect(unrouted).toContain("/zitadel.user.v2.UserService/CreateUser");
    const documented = all.filter((operation) => !atConnectPath(operation) && operation.path !== "/oauth2/token");
    expect(documented).toHaveLength(table.routes.length);
    for (const { path, method, operation } of documented) {
      // Any value fits a path parameter; the gateway must land on the RPC the operation names.
      const lookup = table.lookup(method, path.replaceAll(/\{[^}]+\}/g, "x"));
      expect(lookup.kind, `${method} ${path}`).toBe("found");
      if (lookup.kind !== "found") continue;
      expect(operation.summary).toBe(lookup.route.method.name);
      expect(operation.tags).toEqual([lookup.route.method.parent.typeName]);
    }
  });
});
