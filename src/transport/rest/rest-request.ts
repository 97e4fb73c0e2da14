// Builds an RPC's request message from a REST request the way grpc-gateway does: the JSON body first, then the path
// variables (they win over the body), then, unless the body is the whole request, the query parameters.
import {
  type DescField,
  type DescMessage,
  type JsonReadOptions,
  type JsonValue,
  type Message,
  ScalarType,
  create,
  mergeFromJson,
} from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { readJsonMessage } from "../json-message.js";
import { acceptsParameter, fieldPathName, resolveFieldPath } from "./field-path.js";
import type { RestRoute } from "./rest-routes.js";

export interface RestRequest {
  /** Path variable bindings from the template match: field path → value. */
  bindings: ReadonlyMap<string, string>;
  /** Undefined for a URL without a query string, the usual case, which then costs no parsing. */
  query: URLSearchParams | undefined;
  /** Decoded, and labelled application/json when the route takes a body. */
  body: Uint8Array;
}

/** Throws a ConnectError with Code.InvalidArgument when the request does not fit the message. */
export function buildRequestMessage(
  route: RestRoute,
  request: RestRequest,
  readOptions: Partial<JsonReadOptions> = {},
): Message {
  const { input } = route.method;
  const message = messageFromBody(route, request, readOptions);
  for (const [fieldPath, value] of request.bindings) {
    const fields = route.pathFields.get(fieldPath);
    if (fields) setParameter(input, message, fields, [value], fieldPath, readOptions);
  }
  if (route.body.kind !== "request" && request.query) setQueryParameters(route, message, request.query, readOptions);
  return message;
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

function messageFromBody(route: RestRoute, request: RestRequest, options: Partial<JsonReadOptions>): Message {
  const { input } = route.method;
  let text: string;
  try {
    text = utf8.decode(request.body);
  } catch {
    throw invalidArgument("the request body is not valid UTF-8");
  }
  // Like grpc-gateway, an empty body is an empty message, whatever the route says about bodies.
  if (text.trim() === "") return create(input);
  if (route.body.kind === "none") {
    throw invalidArgument(`${route.httpMethod} ${route.template.source} takes no request body`);
  }
  try {
    if (route.body.kind === "request") return readJsonMessage(input, text, options);
    return readJsonMessage(input, { [route.body.field.jsonName]: JSON.parse(text) as JsonValue }, options);
  } catch (error) {
    throw invalidArgument(`invalid JSON body: ${reasonOf(error)}`);
  }
}

function setQueryParameters(
  route: RestRoute,
  message: Message,
  query: URLSearchParams,
  options: Partial<JsonReadOptions>,
): void {
  const boundPaths = [...route.pathFields.values()].map(fieldPathName);
  if (route.body.kind === "field") boundPaths.push(route.body.field.name);
  const isBound = (path: string) =>
    boundPaths.some((bound) => path === bound || path.startsWith(`${bound}.`) || bound.startsWith(`${path}.`));

  // Which parameter chose each oneof's member, by the oneof's place in the message: a second member would silently
  // replace the first (which scope a DELETE acts in, say), so it is refused, as grpc-gateway refuses it.
  const oneofChoices = new Map<string, { member: string; parameter: string }>();
  for (const name of new Set(query.keys())) {
    const fields = resolveFieldPath(route.method.input, name);
    // As grpc-gateway: parameters that name no field, or a field the path or the body sets, are ignored.
    if (fields === undefined || isBound(fieldPathName(fields))) continue;
    fields.forEach((field, depth) => {
      if (field.oneof === undefined) return;
      const place = `${fieldPathName(fields.slice(0, depth))}/${field.oneof.name}`;
      const chosen = oneofChoices.get(place);
      if (chosen !== undefined && chosen.member !== field.name) {
        throw invalidArgument(`invalid parameter "${name}": "${chosen.parameter}" already sets oneof "${field.oneof.name}"`);
      }
      oneofChoices.set(place, { member: field.name, parameter: name });
    });
    setParameter(route.method.input, message, fields, query.getAll(name), name, options);
  }
}

/** Sets a URL parameter's values, parsed with proto3 JSON rules, on a field path; repeated fields get them appended. */
function setParameter(
  input: DescMessage,
  message: Message,
  fields: DescField[],
  values: string[],
  name: string,
  options: Partial<JsonReadOptions>,
): void {
  const leaf = fields.at(-1)!;
  if (!acceptsParameter(leaf)) throw invalidArgument(`invalid parameter "${name}": a URL cannot set this field`);
  if (leaf.fieldKind !== "list" && values.length > 1) {
    throw invalidArgument(`invalid parameter "${name}": given ${values.length} times for a singular field`);
  }
  const leafJson =
    leaf.fieldKind === "list" ? values.map((value) => parameterJson(leaf, value)) : parameterJson(leaf, values[0]!);
  const json = fields.reduceRight<JsonValue>((inner, field) => ({ [field.jsonName]: inner }), leafJson);
  try {
    // Strict here: an unknown enum name in a URL is a client error, not a field to skip.
    mergeFromJson(input, message, json, { ...options, ignoreUnknownFields: false });
  } catch (error) {
    throw invalidArgument(`invalid parameter "${name}": ${reasonOf(error)}`);
  }
}

/** A URL carries strings only; JSON wants booleans as literals and accepts enums by number. */
function parameterJson(field: DescField, value: string): JsonValue {
  if (field.enum !== undefined && /^-?\d+$/.test(value)) return Number(value);
  const isBool = field.scalar === ScalarType.BOOL || field.message?.typeName === "google.protobuf.BoolValue";
  if (isBool && (value === "true" || value === "false")) return value === "true";
  return value;
}

function invalidArgument(message: string): ConnectError {
  return new ConnectError(message, Code.InvalidArgument);
}

function reasonOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
