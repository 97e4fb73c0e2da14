// A request that sets a field the contract marks (verifyd.options.v1.unsupported) is refused as Unimplemented,
// naming the field, so that a caller never believes data was stored when it was dropped.
import { type DescField, type DescMessage, getOption } from "@bufbuild/protobuf";
import { type ReflectMessage, reflect } from "@bufbuild/protobuf/reflect";
import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import { unsupported } from "../../gen/verifyd/options/v1/options_pb.js";

export function createUnsupportedFieldsInterceptor(): Interceptor {
  const cache = new Map<string, boolean>();
  // Not an async function, like the validation interceptor: a request without such a field goes on with the next
  // layer's own promise, and a refusal is still a rejected promise.
  return (next) => (req) => {
    const field =
      !req.stream && mayHaveUnsupported(req.method.input, cache)
        ? findSetUnsupportedField(reflect(req.method.input, req.message), cache)
        : undefined;
    return field ? Promise.reject(new ConnectError(`the field ${field} is not supported yet`, Code.Unimplemented)) : next(req);
  };
}

/** Skips the walk for messages that cannot contain an unsupported field: the hot path pays one map lookup. */
function mayHaveUnsupported(desc: DescMessage, cache: Map<string, boolean>): boolean {
  let result = cache.get(desc.typeName);
  if (result === undefined) {
    result = reachesUnsupported(desc, new Set());
    cache.set(desc.typeName, result);
  }
  return result;
}

/**
 * Whether the type or any type it can hold has a marked field. Only the type asked about is cached: a type met again
 * along a cycle counts as nothing new, which is right for this walk but not an answer for that type alone.
 */
function reachesUnsupported(desc: DescMessage, visiting: Set<string>): boolean {
  if (visiting.has(desc.typeName)) return false;
  visiting.add(desc.typeName);
  return desc.fields.some(
    (field) => isUnsupported(field) || (field.message !== undefined && reachesUnsupported(field.message, visiting)),
  );
}

/**
 * Looks only where an unsupported field can be: at the marked fields, and into the messages whose type may hold one.
 * Each message is reflected once, by whoever reaches it (reflecting is an object and a map per message).
 */
function findSetUnsupportedField(reflected: ReflectMessage, cache: Map<string, boolean>, prefix = ""): string | undefined {
  for (const field of reflected.desc.fields) {
    const leadsToUnsupported = field.message !== undefined && mayHaveUnsupported(field.message, cache);
    if (!(isUnsupported(field) || leadsToUnsupported) || !reflected.isSet(field)) continue;
    const path = `${prefix}${field.name}`;
    if (isUnsupported(field)) return path;
    for (const [at, nested] of nestedMessages(reflected, field)) {
      const found = findSetUnsupportedField(nested, cache, `${path}${at}.`);
      if (found) return found;
    }
  }
  return undefined;
}

/** The messages a set field holds, with how to address each: itself, or the elements of a list or map. */
function nestedMessages(reflected: ReflectMessage, field: DescField): [string, ReflectMessage][] {
  switch (field.fieldKind) {
    case "message":
      return [["", reflected.get(field)]];
    case "list":
      if (field.listKind !== "message") return [];
      return [...reflected.get(field)].map((item, index) => [`[${index}]`, item as ReflectMessage]);
    case "map":
      if (field.mapKind !== "message") return [];
      return [...reflected.get(field)].map(([key, value]) => [`[${String(key)}]`, value as ReflectMessage]);
    default:
      return [];
  }
}

// Reading an option decodes the field's options anew each time: once per field descriptor is enough.
const unsupportedFields = new WeakMap<DescField, boolean>();

function isUnsupported(field: DescField): boolean {
  let marked = unsupportedFields.get(field);
  if (marked === undefined) {
    marked = getOption(field, unsupported);
    unsupportedFields.set(field, marked);
  }
  return marked;
}
