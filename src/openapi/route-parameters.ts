// The parameters of a REST route as the gateway reads them (src/transport/rest/rest-request.ts): the path variables,
// and, unless the body is the whole request, a query parameter for every field a URL can set that neither the path
// nor the body sets.
import type { DescField, DescMessage } from "@bufbuild/protobuf";
import { acceptsParameter, fieldPathName } from "../transport/rest/field-path.js";
import type { RestRoute } from "../transport/rest/rest-routes.js";
import { parameterName } from "./openapi-path.js";
import type { JsonSchema, SchemaCollector } from "./proto-json-schema.js";

export interface Parameter {
  name: string;
  in: "path" | "query";
  required?: true;
  deprecated?: true;
  schema: JsonSchema;
}

export function routeParameters(route: RestRoute, schemas: SchemaCollector): Parameter[] {
  const parameters: Parameter[] = [...route.pathFields.values()].map((fields) => ({
    name: parameterName(fields),
    in: "path",
    required: true,
    schema: schemas.fieldSchema(fields.at(-1)!),
  }));
  if (route.body.kind === "request") return parameters;

  const boundPaths = [...route.pathFields.values()].map(fieldPathName);
  if (route.body.kind === "field") boundPaths.push(route.body.field.name);
  const isBound = (path: string) =>
    boundPaths.some((bound) => path === bound || path.startsWith(`${bound}.`) || bound.startsWith(`${path}.`));

  for (const fields of parameterFields(route.method.input, [], new Set())) {
    if (isBound(fieldPathName(fields))) continue;
    const leaf = fields.at(-1)!;
    parameters.push({
      name: parameterName(fields),
      in: "query",
      ...(fields.some((field) => field.deprecated) ? { deprecated: true as const } : {}),
      schema: leaf.fieldKind === "list" ? { type: "array", items: schemas.elementSchema(leaf) } : schemas.fieldSchema(leaf),
    });
  }
  return parameters;
}

/** Field paths a URL parameter can set, through singular message fields; a message already on the path ends it. */
function parameterFields(message: DescMessage, prefix: DescField[], visiting: Set<string>): DescField[][] {
  const found: DescField[][] = [];
  visiting.add(message.typeName);
  for (const field of message.fields) {
    const path = [...prefix, field];
    if (acceptsParameter(field)) found.push(path);
    else if (field.fieldKind === "message" && !visiting.has(field.message.typeName)) {
      found.push(...parameterFields(field.message, path, visiting));
    }
  }
  visiting.delete(message.typeName);
  return found;
}
