// The checked-in openapi.json is what the contract gives now (like scripts/check-generated.ts for src/gen/), and its
// schemas follow the proto3 JSON mapping the REST gateway speaks.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { buildOpenApiDocument } from "../../src/openapi/openapi-document.js";
import { openApiJson } from "../../src/openapi/openapi-json.js";
import { servedServices } from "../../src/openapi/served-services.js";

const document = buildOpenApiDocument(servedServices);
const schemas = document.components.schemas as Record<string, { properties: Record<string, unknown> }>;

describe("openapi.json", () => {
  it("is up to date with the contract (run `npm run openapi` and commit)", () => {
    const checkedIn = readFileSync(join(import.meta.dirname, "../../openapi.json"), "utf8");
    expect(checkedIn).toBe(openApiJson(document));
  });

  it("maps fields the way proto3 JSON does", () => {
    expect(schemas["verifyd.apps.v1.Application"]!.properties.creationDate).toEqual({ type: "string", format: "date-time" });
    expect(schemas["zitadel.filter.v2beta.PaginationRequest"]!.properties.offset).toMatchObject({ type: "string", format: "uint64" });
    expect(schemas["verifyd.security.v1.SecurityEvent"]!.properties.detail).toEqual({
      type: "object",
      additionalProperties: { type: "string" },
    });
    expect(schemas["verifyd.settings.v1.TestContact"]!.properties.phone).toMatchObject({ type: "string" });
    expect(schemas["verifyd.settings.v1.PhoneCountriesMode"]).toMatchObject({
      type: "string",
      enum: expect.arrayContaining(["PHONE_COUNTRIES_MODE_ALLOW_LIST"]),
    });
    expect(schemas["google.rpc.Status"]!.properties.details).toMatchObject({ type: "array" });
  });

  it("answers REST operations' errors with google.rpc.Status, Connect paths' with Connect's, and asks a bearer token", () => {
    expect(document.security).toEqual([{ bearer: [] }]);
    expect(document.components.securitySchemes).toEqual({ bearer: { type: "http", scheme: "bearer" } });
    for (const [path, pathItem] of Object.entries(document.paths)) {
      // The password login answers as OAuth does (its own test).
      if (path === "/oauth2/token") continue;
      const atConnectPath = /^\/[a-z0-9_.]+\.[A-Z]\w*\/\w+$/.test(path);
      for (const operation of Object.values(pathItem) as { responses: Record<string, unknown>; security?: unknown }[]) {
        const schema = atConnectPath
          ? { properties: { code: { type: "string" }, message: { type: "string" } } }
          : { $ref: "#/components/schemas/google.rpc.Status" };
        expect(operation.responses.default, path).toMatchObject({ content: { "application/json": { schema } } });
        // Only the health check needs no token.
        expect(operation.security, path).toEqual(path.startsWith("/grpc.health.v1.Health/") ? [] : undefined);
      }
    }
  });
});
