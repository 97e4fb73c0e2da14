// Dotted field paths ("book.name") as used by path variables, `body` and query parameters.
import type { DescField, DescMessage } from "@bufbuild/protobuf";

/**
 * Resolves each name of the path, by proto name or JSON name, through singular message fields.
 * Returns undefined when a name is unknown or a field before the last one is not a singular message.
 */
export function resolveFieldPath(message: DescMessage, path: string): DescField[] | undefined {
  const fields: DescField[] = [];
  let container: DescMessage | undefined = message;
  for (const name of path.split(".")) {
    const field: DescField | undefined = container?.fields.find((f) => f.name === name || f.jsonName === name);
    if (field === undefined) return undefined;
    fields.push(field);
    container = field.fieldKind === "message" ? field.message : undefined;
  }
  return fields;
}

/** The proto-name form of a resolved path, to compare paths however they were spelled. */
export function fieldPathName(fields: readonly DescField[]): string {
  return fields.map((field) => field.name).join(".");
}

/** Well-known types whose JSON form is a single scalar, so a URL parameter can carry them. */
const scalarJsonMessages = new Set([
  "google.protobuf.Timestamp",
  "google.protobuf.Duration",
  "google.protobuf.FieldMask",
  "google.protobuf.DoubleValue",
  "google.protobuf.FloatValue",
  "google.protobuf.Int64Value",
  "google.protobuf.UInt64Value",
  "google.protobuf.Int32Value",
  "google.protobuf.UInt32Value",
  "google.protobuf.BoolValue",
  "google.protobuf.StringValue",
  "google.protobuf.BytesValue",
]);

/** Whether a URL parameter (a string) can set this field, or, for a repeated field, one of its elements. */
export function acceptsParameter(field: DescField): boolean {
  if (field.fieldKind === "map") return false;
  return field.message === undefined || scalarJsonMessages.has(field.message.typeName);
}
