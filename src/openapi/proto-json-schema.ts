// JSON Schemas of protobuf messages in their proto3 JSON form (https://protobuf.dev/programming-guides/json/), the
// form the REST gateway reads and writes: camelCase names, 64-bit integers as strings, enums by name, well-known
// types in their special forms. Every field is optional, as proto3 JSON omits zero values. A string's length rules
// (buf.validate) are in its schema, and a field verifyd does not support yet says so: a typed client would otherwise
// offer it, and the call would be answered 501.
import { type DescEnum, type DescField, type DescMessage, ScalarType, getOption } from "@bufbuild/protobuf";
import { field as validationRules } from "../gen/buf/validate/validate_pb.js";
import { unsupported } from "../gen/verifyd/options/v1/options_pb.js";

export type JsonSchema = { [keyword: string]: unknown };

export interface SchemaCollector {
  /** A reference to the message's component schema, collecting it and every type it uses. */
  messageRef(message: DescMessage): JsonSchema;
  /** The schema of one value of the field: an element for a repeated field, the whole map for a map field. */
  fieldSchema(field: DescField): JsonSchema;
  /** The schema of a single element: what a repeated field's URL parameter carries once. */
  elementSchema(field: DescField): JsonSchema;
  /** Component schemas by full type name, sorted so the document is stable. */
  components(): Record<string, JsonSchema>;
}

// Google's discovery documents use these formats for the two types whose JSON strings JSON Schema has no format for
// (JSON Schema's "duration" is ISO 8601, proto3 JSON's is "1.5s").
const wellKnown: Record<string, JsonSchema> = {
  "google.protobuf.Timestamp": { type: "string", format: "date-time" },
  "google.protobuf.Duration": { type: "string", format: "google-duration", pattern: "^-?[0-9]+(\\.[0-9]{1,9})?s$" },
  "google.protobuf.FieldMask": { type: "string", format: "google-fieldmask" },
  "google.protobuf.Empty": { type: "object" },
  "google.protobuf.Struct": { type: "object", additionalProperties: true },
  "google.protobuf.Value": {},
  "google.protobuf.ListValue": { type: "array", items: {} },
  "google.protobuf.Any": {
    type: "object",
    properties: { "@type": { type: "string" } },
    required: ["@type"],
    additionalProperties: true,
  },
  "google.protobuf.DoubleValue": scalarSchema(ScalarType.DOUBLE),
  "google.protobuf.FloatValue": scalarSchema(ScalarType.FLOAT),
  "google.protobuf.Int64Value": scalarSchema(ScalarType.INT64),
  "google.protobuf.UInt64Value": scalarSchema(ScalarType.UINT64),
  "google.protobuf.Int32Value": scalarSchema(ScalarType.INT32),
  "google.protobuf.UInt32Value": scalarSchema(ScalarType.UINT32),
  "google.protobuf.BoolValue": scalarSchema(ScalarType.BOOL),
  "google.protobuf.StringValue": scalarSchema(ScalarType.STRING),
  "google.protobuf.BytesValue": scalarSchema(ScalarType.BYTES),
};

export function createSchemaCollector(): SchemaCollector {
  const schemas = new Map<string, JsonSchema>();

  const ref = (typeName: string): JsonSchema => ({ $ref: `#/components/schemas/${typeName}` });

  const enumRef = (desc: DescEnum): JsonSchema => {
    if (!schemas.has(desc.typeName)) {
      schemas.set(desc.typeName, { type: "string", enum: desc.values.map((value) => value.name) });
    }
    return ref(desc.typeName);
  };

  const messageRef = (message: DescMessage): JsonSchema => {
    const special = wellKnown[message.typeName];
    if (special !== undefined) return special;
    if (!schemas.has(message.typeName)) {
      // Registered before its fields, so a recursive message refers to itself instead of looping.
      const schema: JsonSchema = { type: "object" };
      schemas.set(message.typeName, schema);
      const properties: Record<string, JsonSchema> = {};
      for (const field of message.fields) properties[field.jsonName] = propertySchema(field);
      if (message.fields.length > 0) schema.properties = properties;
      if (message.deprecated) schema.deprecated = true;
    }
    return ref(message.typeName);
  };

  const elementSchema = (field: DescField): JsonSchema => {
    if (field.message !== undefined) return messageRef(field.message);
    if (field.enum !== undefined) return enumRef(field.enum);
    return scalarSchema(field.scalar!);
  };

  const fieldSchema = (field: DescField): JsonSchema => {
    switch (field.fieldKind) {
      case "list":
        return { type: "array", items: elementSchema(field) };
      case "map": {
        const value =
          field.mapKind === "message"
            ? messageRef(field.message)
            : field.mapKind === "enum"
              ? enumRef(field.enum)
              : scalarSchema(field.scalar);
        // JSON object keys are strings whatever the map's key type.
        return { type: "object", additionalProperties: value };
      }
      default:
        return elementSchema(field);
    }
  };

  const propertySchema = (field: DescField): JsonSchema => {
    const annotations: JsonSchema = { ...stringLength(field) };
    const descriptions: string[] = [];
    if (getOption(field, unsupported)) descriptions.push(unsupportedNote);
    if (field.oneof !== undefined) {
      const members = field.oneof.fields.map((member) => member.jsonName).join(", ");
      descriptions.push(`oneof ${field.oneof.name}: at most one of ${members}`);
    }
    if (descriptions.length > 0) annotations.description = descriptions.join("; ");
    if (field.deprecated) annotations.deprecated = true;
    if (Object.keys(annotations).length === 0) return fieldSchema(field);
    // Beside a $ref other keywords are allowed in OpenAPI 3.1, but some tools drop them: allOf keeps them.
    const schema = fieldSchema(field);
    return "$ref" in schema ? { allOf: [schema], ...annotations } : { ...schema, ...annotations };
  };

  return {
    messageRef,
    fieldSchema,
    elementSchema,
    components: () => Object.fromEntries([...schemas].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))),
  };
}

const unsupportedNote = "Not supported by verifyd yet: a request that sets it is answered 501 (gRPC 12, Unimplemented), naming it";

/** A string field's length rules, in characters as both count them. */
function stringLength(field: DescField): JsonSchema {
  const rules = getOption(field, validationRules).type;
  if (field.fieldKind !== "scalar" || rules.case !== "string") return {};
  const { minLen, maxLen } = rules.value;
  return { ...(minLen > 0n ? { minLength: Number(minLen) } : {}), ...(maxLen > 0n ? { maxLength: Number(maxLen) } : {}) };
}

function scalarSchema(scalar: ScalarType): JsonSchema {
  switch (scalar) {
    case ScalarType.STRING:
      return { type: "string" };
    case ScalarType.BYTES:
      return { type: "string", format: "byte" };
    case ScalarType.BOOL:
      return { type: "boolean" };
    case ScalarType.DOUBLE:
      return { type: "number", format: "double" };
    case ScalarType.FLOAT:
      return { type: "number", format: "float" };
    case ScalarType.INT32:
    case ScalarType.SINT32:
    case ScalarType.SFIXED32:
      return { type: "integer", format: "int32" };
    case ScalarType.UINT32:
    case ScalarType.FIXED32:
      return { type: "integer", format: "uint32", minimum: 0 };
    // proto3 JSON writes 64-bit integers as strings: a JavaScript number cannot hold them exactly.
    case ScalarType.INT64:
    case ScalarType.SINT64:
    case ScalarType.SFIXED64:
      return { type: "string", format: "int64", pattern: "^-?[0-9]+$" };
    case ScalarType.UINT64:
    case ScalarType.FIXED64:
      return { type: "string", format: "uint64", pattern: "^[0-9]+$" };
  }
}
