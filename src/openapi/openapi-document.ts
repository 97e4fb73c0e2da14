// The OpenAPI 3.1 description of the REST gateway, built from the routes the gateway itself reads from the
// google.api.http options, so the document cannot promise a path, method or parameter the gateway does not serve.
import type { DescMethod, DescService } from "@bufbuild/protobuf";
import { StatusSchema } from "../gen/google/rpc/status_pb.js";
import { Health } from "../gen/grpc/health/v1/health_pb.js";
import { type RestRoute, createRestRouteTable } from "../transport/rest/rest-routes.js";
import { mustSendBody } from "../transport/rest/unsupported-media.js";
import { openApiPath } from "./openapi-path.js";
import { type JsonSchema, type SchemaCollector, createSchemaCollector } from "./proto-json-schema.js";
import { routeParameters } from "./route-parameters.js";
import { tokenOperation, tokenPath } from "./token-operation.js";

export type OpenApiDocument = {
  openapi: "3.1.0";
  info: { title: string; version: string; description: string };
  paths: Record<string, Record<string, unknown>>;
  components: { schemas: Record<string, JsonSchema>; securitySchemes: Record<string, unknown> };
  security: Record<string, string[]>[];
  servers: { url: string }[];
};

// Answered without a token (src/transport/authentication.ts); every other service needs one.
const publicServices = new Set([Health.typeName]);

const json = "application/json";

export function buildOpenApiDocument(services: readonly DescService[]): OpenApiDocument {
  const schemas = createSchemaCollector();
  const status = schemas.messageRef(StatusSchema);
  const paths: OpenApiDocument["paths"] = {};
  const operationIds = new Map<string, number>();

  for (const route of createRestRouteTable(services).routes) {
    const { method } = route;
    // An RPC with additional_bindings has one operation per binding; operation ids must be unique.
    const baseId = `${method.parent.name}_${method.name}`;
    const seen = operationIds.get(baseId) ?? 0;
    operationIds.set(baseId, seen + 1);
    const parameters = routeParameters(route, schemas);
    const requestBody = routeRequestBody(route, schemas);

    const operation = {
      tags: [method.parent.typeName],
      summary: method.name,
      operationId: seen === 0 ? baseId : `${baseId}_${seen + 1}`,
      ...(method.deprecated ? { deprecated: true } : {}),
      ...(parameters.length > 0 ? { parameters } : {}),
      ...(requestBody ? { requestBody } : {}),
      responses: {
        "200": { description: "OK", content: { [json]: { schema: schemas.messageRef(method.output) } } },
        default: {
          description: "An error: a google.rpc.Status with gRPC's code, and the HTTP status grpc-gateway gives it",
          content: { [json]: { schema: status } },
        },
      },
      ...(publicServices.has(method.parent.typeName) ? { security: [] } : {}),
    };
    const path = openApiPath(route);
    const pathItem = (paths[path] ??= {});
    const key = route.httpMethod.toLowerCase();
    if (key in pathItem) throw new Error(`${method.toString()}: ${route.httpMethod} ${path} is bound twice`);
    pathItem[key] = operation;
  }

  // The unary RPCs without a REST route are served at their Connect path, JSON in and out, with Connect's error body.
  const routed = new Set<DescMethod>(createRestRouteTable(services).routes.map((route) => route.method));
  const connectError = connectErrorSchema();
  for (const service of services) {
    for (const method of service.methods) {
      if (method.methodKind !== "unary" || routed.has(method)) continue;
      paths[`/${service.typeName}/${method.name}`] = {
        post: {
          tags: [service.typeName],
          summary: method.name,
          description: "Served at its Connect path (the RPC has no REST route): a Connect unary call with JSON.",
          operationId: `${service.name}_${method.name}`,
          ...(method.deprecated ? { deprecated: true } : {}),
          requestBody: { required: true, content: { [json]: { schema: schemas.messageRef(method.input) } } },
          responses: {
            "200": { description: "OK", content: { [json]: { schema: schemas.messageRef(method.output) } } },
            // connect-es answers a body it cannot read without one: the Connect protocol gives it none.
            "415": { description: "The request's Content-Type is not application/json (nor application/proto): no body" },
            default: {
              description: "An error, as Connect sends it, with the HTTP status Connect gives its code",
              content: { [json]: { schema: connectError } },
            },
          },
          ...(publicServices.has(service.typeName) ? { security: [] } : {}),
        },
      };
    }
  }

  paths[tokenPath] = { post: tokenOperation() };

  return {
    openapi: "3.1.0",
    info: {
      title: "verifyd",
      // The document's version, not verifyd's: each API's version is in its paths.
      version: "1.0.0",
      description:
        "The REST gateway of verifyd. Bodies are proto3 JSON: camelCase or snake_case names in, camelCase out, " +
        "64-bit integers as strings, enums by name, RFC 3339 timestamps, zero values omitted. " +
        "Every RPC is also served over gRPC, gRPC-Web and Connect.",
    },
    // Sorted so that a path's neighbours are its relatives, whatever order the gateway matches them in.
    paths: Object.fromEntries(Object.entries(paths).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))),
    components: {
      schemas: schemas.components(),
      securitySchemes: { bearer: { type: "http", scheme: "bearer" } },
    },
    security: [{ bearer: [] }],
    // The server that serves this document, as OpenAPI assumes without the field; said, so that linters and
    // generators find a base URL.
    servers: [{ url: "/" }],
  };
}

/** Connect's unary error body: its code's name, the message, and the details as packed messages in base64. */
function connectErrorSchema(): JsonSchema {
  return {
    type: "object",
    properties: {
      code: { type: "string", description: "gRPC's code name in snake case, e.g. invalid_argument" },
      message: { type: "string" },
      details: {
        type: "array",
        items: {
          type: "object",
          properties: {
            type: { type: "string", description: "the detail's message name, e.g. google.rpc.ErrorInfo" },
            value: { type: "string", description: "the detail in binary protobuf, base64 without padding" },
            debug: { description: "the detail as JSON, for reading" },
          },
        },
      },
    },
  };
}

function routeRequestBody(route: RestRoute, schemas: SchemaCollector): object | undefined {
  const { body } = route;
  if (body.kind === "none") return undefined;
  const schema = body.kind === "request" ? schemas.messageRef(route.method.input) : schemas.fieldSchema(body.field);
  // An empty body is an empty message, as in grpc-gateway, but a POST, PUT or PATCH must still be labelled JSON, and
  // clients generated from this document send the label only with a body: for those, `{}` at least is required.
  return { required: mustSendBody(route), content: { [json]: { schema } } };
}
