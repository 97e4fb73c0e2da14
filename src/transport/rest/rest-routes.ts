// The REST routing table, read from the google.api.http option of every unary method.
import {
  type DescField,
  type DescMethod,
  type DescMethodUnary,
  type DescService,
  getOption,
  hasOption,
} from "@bufbuild/protobuf";
import { http } from "../../gen/google/api/annotations_pb.js";
import type { HttpRule } from "../../gen/google/api/http_pb.js";
import { acceptsParameter, resolveFieldPath } from "./field-path.js";
import {
  RequestPath,
  fitsSegmentCount,
  matchPathTemplate,
  parsePathTemplate,
  segmentCountOf,
  type PathTemplate,
  type TemplateSegment,
} from "./http-rule-template.js";

/** Where the HTTP body goes: nowhere (`body` unset), the whole request (`body: "*"`), or one top-level field. */
export type RouteBody = { kind: "none" } | { kind: "request" } | { kind: "field"; field: DescField };

export interface RestRoute {
  method: DescMethodUnary;
  /** Upper case, e.g. "POST", or a custom pattern's kind. */
  httpMethod: string;
  template: PathTemplate;
  body: RouteBody;
  /** Each template variable's field path, resolved against the request message. */
  pathFields: Map<string, DescField[]>;
}

export type RouteLookup =
  | { kind: "found"; route: RestRoute; bindings: Map<string, string> }
  | { kind: "method-not-allowed"; allowedMethods: string[] }
  | { kind: "not-found" };

export interface RestRouteTable {
  routes: readonly RestRoute[];
  /** `path` is the request path without the query string, still percent-encoded. */
  lookup(httpMethod: string, path: string): RouteLookup;
}

/** Throws an Error naming the method when an option cannot be served, so a bad contract fails at start-up. */
export function createRestRouteTable(services: Iterable<DescService>): RestRouteTable {
  const routes: RestRoute[] = [];
  for (const service of services) {
    for (const method of service.methods) {
      if (!isUnary(method) || !hasOption(method, http)) continue;
      const rule = getOption(method, http);
      routes.push(createRoute(method, rule));
      for (const binding of rule.additionalBindings) {
        if (binding.additionalBindings.length > 0) {
          throw invalidRule(method, "additional_bindings cannot nest");
        }
        routes.push(createRoute(method, binding));
      }
    }
  }
  // When several templates match a path, the one with literals where the others have wildcards wins.
  routes.sort((a, b) => compareSpecificity(a.template, b.template));

  // A path is tried only against the templates that can have as many segments as it has, instead of against most
  // of the table (README, performance, step 30). Past the longest fixed template, only `**` templates fit, the same
  // ones for every count, so one list serves all those counts and the lists stay few.
  const longestFixed = Math.max(0, ...routes.map((route) => route.template.segments.length));
  const candidatesByCount = new Map<number, RestRoute[]>();
  const candidatesFor = (path: string): RestRoute[] => {
    const count = Math.min(segmentCountOf(path), longestFixed + 1);
    let candidates = candidatesByCount.get(count);
    if (candidates === undefined) {
      candidates = routes.filter((route) => fitsSegmentCount(route.template, count));
      candidatesByCount.set(count, candidates);
    }
    return candidates;
  };

  return {
    routes,
    lookup(httpMethod, path) {
      let allowedMethods: Set<string> | undefined;
      const requestPath = new RequestPath(path);
      for (const route of candidatesFor(path)) {
        const bindings = matchPathTemplate(route.template, requestPath);
        if (bindings === undefined) continue;
        if (route.httpMethod === httpMethod || (httpMethod === "HEAD" && route.httpMethod === "GET")) {
          return { kind: "found", route, bindings };
        }
        (allowedMethods ??= new Set()).add(route.httpMethod);
        // HTTP asks every GET resource to answer HEAD too: the GET's status and headers without its body.
        if (route.httpMethod === "GET") allowedMethods.add("HEAD");
      }
      return allowedMethods ? { kind: "method-not-allowed", allowedMethods: [...allowedMethods] } : { kind: "not-found" };
    },
  };
}

function createRoute(method: DescMethodUnary, rule: HttpRule): RestRoute {
  if (rule.responseBody !== "") throw invalidRule(method, "response_body is not supported");
  if (rule.pattern.case === undefined) throw invalidRule(method, "has no pattern");
  const { httpMethod, path } =
    rule.pattern.case === "custom"
      ? { httpMethod: rule.pattern.value.kind, path: rule.pattern.value.path }
      : { httpMethod: rule.pattern.case.toUpperCase(), path: rule.pattern.value };
  const template = parsePathTemplate(path);

  const pathFields = new Map<string, DescField[]>();
  for (const { fieldPath } of template.variables) {
    const fields = resolveFieldPath(method.input, fieldPath);
    const leaf = fields?.at(-1);
    if (fields === undefined || leaf === undefined || leaf.fieldKind === "list" || !acceptsParameter(leaf)) {
      throw invalidRule(method, `variable "${fieldPath}" is not a singular scalar field of ${method.input.typeName}`);
    }
    pathFields.set(fieldPath, fields);
  }

  return { method, httpMethod, template, body: routeBody(method, rule.body), pathFields };
}

// Only unary RPCs map onto one HTTP request and one HTTP response.
function isUnary(method: DescMethod): method is DescMethodUnary {
  return method.methodKind === "unary";
}

function routeBody(method: DescMethod, body: string): RouteBody {
  if (body === "") return { kind: "none" };
  if (body === "*") return { kind: "request" };
  const fields = resolveFieldPath(method.input, body);
  // http.proto: the body field must be a top-level field.
  if (fields?.length !== 1) throw invalidRule(method, `body "${body}" is not a field of ${method.input.typeName}`);
  return { kind: "field", field: fields[0]! };
}

function invalidRule(method: DescMethod, reason: string): Error {
  return new Error(`${method.toString()}: google.api.http ${reason}`);
}

const segmentRank: Record<TemplateSegment["kind"], number> = { literal: 0, wildcard: 1, "deep-wildcard": 2 };

function compareSpecificity(a: PathTemplate, b: PathTemplate): number {
  const count = Math.min(a.segments.length, b.segments.length);
  for (let i = 0; i < count; i++) {
    const difference = segmentRank[a.segments[i]!.kind] - segmentRank[b.segments[i]!.kind];
    if (difference !== 0) return difference;
  }
  // A template with a verb is the more specific one: "/v1/{name}:cancel" before "/v1/{name}".
  return Number(a.verb === undefined) - Number(b.verb === undefined);
}
