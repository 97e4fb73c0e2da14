// Request messages from proto3 JSON, as REST and the JSON codecs of the RPC protocols read them. In ZITADEL's API,
// fields this version does not know are skipped, as ZITADEL's gateway, grpc-gateway and connect-go skip them, so that
// a client of a newer contract still works. protobuf-es skips an unknown enum name under the same option, and that is
// refused here: a mistyped mode of a deny list, or a filter's state, would otherwise read as unset, which means "all"
// (a deny list gone, every user listed) and answers 200. verifyd's own API (package verifyd.*) is read strictly: its
// clients are built from this contract, and a setting sent under a misspelt name would otherwise be replaced by its
// default.
import {
  type DescEnum,
  type DescField,
  type DescMessage,
  type JsonReadOptions,
  type JsonValue,
  type MessageShape,
  fromJson,
  fromJsonString,
} from "@bufbuild/protobuf";

/** The JSON names what the contract lacks where that is refused: an enum value, or a field of verifyd's own API. */
export class RefusedJsonName extends Error {}

/** Throws RefusedJsonName, or protobuf-es's error when the JSON does not fit the message. */
export function readJsonMessage<Desc extends DescMessage>(
  desc: Desc,
  json: string | JsonValue,
  options: Partial<JsonReadOptions> = {},
): MessageShape<Desc> {
  const read = (ignoreUnknownFields: boolean) =>
    typeof json === "string"
      ? fromJsonString(desc, json, { ...options, ignoreUnknownFields })
      : fromJson(desc, json, { ...options, ignoreUnknownFields });
  try {
    // Most requests name only fields this version knows: read once, strictly, and done.
    return read(false);
  } catch (strictError) {
    // Throws the real reason when the JSON does not fit even with unknown fields skipped.
    const message = read(true);
    const unknown = firstUnknownEnumName(desc, typeof json === "string" ? (JSON.parse(json) as JsonValue) : json, "");
    if (unknown !== undefined) throw new RefusedJsonName(unknown);
    if (desc.typeName.startsWith("verifyd.")) throw new RefusedJsonName((strictError as Error).message);
    return message;
  }
}

/** The first enum name in `json` that its field's enum lacks, as `path: "NAME" is not a value of Enum`. */
function firstUnknownEnumName(desc: DescMessage, json: JsonValue, path: string): string | undefined {
  // Well-known types have JSON forms of their own (a timestamp's string, a Struct's object) and no enum to mistype.
  if (desc.file.proto.package === "google.protobuf" || !isObject(json)) return undefined;
  for (const [key, value] of Object.entries(json)) {
    const field = desc.fields.find((candidate) => candidate.jsonName === key || candidate.name === key);
    if (field === undefined || value === null) continue;
    const fieldPath = path === "" ? field.jsonName : `${path}.${field.jsonName}`;
    const found =
      field.fieldKind === "list" && Array.isArray(value)
        ? firstOf(value, (element, index) => unknownIn(field, element, `${fieldPath}[${index}]`))
        : field.fieldKind === "map" && isObject(value)
          ? firstOf(Object.entries(value), ([mapKey, element]) => unknownIn(field, element, `${fieldPath}["${mapKey}"]`))
          : unknownIn(field, value, fieldPath);
    if (found !== undefined) return found;
  }
  return undefined;
}

/** In one value of the field (a list's element, a map's value, or the field's own). */
function unknownIn(field: DescField, value: JsonValue, path: string): string | undefined {
  const { enum: descEnum, message } = elementTypes(field);
  if (descEnum !== undefined && typeof value === "string" && !descEnum.values.some((known) => known.name === value)) {
    return `${path}: "${value}" is not a value of ${descEnum.typeName}`;
  }
  return message === undefined || value === null ? undefined : firstUnknownEnumName(message, value, path);
}

function elementTypes(field: DescField): { enum?: DescEnum; message?: DescMessage } {
  switch (field.fieldKind) {
    case "enum":
      return { enum: field.enum };
    case "message":
      return { message: field.message };
    case "list":
      return field.listKind === "enum" ? { enum: field.enum } : field.listKind === "message" ? { message: field.message } : {};
    case "map":
      return field.mapKind === "enum" ? { enum: field.enum } : field.mapKind === "message" ? { message: field.message } : {};
    default:
      return {};
  }
}

function firstOf<T>(items: readonly T[], find: (item: T, index: number) => string | undefined): string | undefined {
  for (let index = 0; index < items.length; index++) {
    const found = find(items[index]!, index);
    if (found !== undefined) return found;
  }
  return undefined;
}

function isObject(json: JsonValue): json is { [key: string]: JsonValue } {
  return typeof json === "object" && json !== null && !Array.isArray(json);
}
