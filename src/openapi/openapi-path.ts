// A google.api.http path template as an OpenAPI path: each variable one `{name}` parameter, named by its field's
// JSON name (dotted for a nested field), as the rest of the document names fields.
import type { DescField } from "@bufbuild/protobuf";
import type { RestRoute } from "../transport/rest/rest-routes.js";

/** The OpenAPI parameter name of a path variable or query parameter. */
export function parameterName(fields: readonly DescField[]): string {
  return fields.map((field) => field.jsonName).join(".");
}

/** Throws an Error naming the template when it has a wildcard outside a variable: OpenAPI paths cannot say that. */
export function openApiPath(route: RestRoute): string {
  const { template } = route;
  const parts: string[] = [];
  for (let i = 0; i < template.segments.length; i++) {
    const variable = template.variables.find((candidate) => candidate.start === i);
    if (variable !== undefined) {
      parts.push(`{${parameterName(route.pathFields.get(variable.fieldPath)!)}}`);
      i = variable.end - 1;
      continue;
    }
    const segment = template.segments[i]!;
    if (segment.kind !== "literal") {
      throw new Error(`${route.method.toString()}: "${template.source}" has a wildcard outside a variable`);
    }
    parts.push(encodeURIComponent(segment.value));
  }
  const verb = template.verb === undefined ? "" : `:${encodeURIComponent(template.verb)}`;
  return `/${parts.join("/")}${verb}`;
}
