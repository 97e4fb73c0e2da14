// The fields of a Kii request body, read against what the endpoint takes. A field verifyd cannot honour is refused
// by name rather than dropped, so a client never believes something was stored that was not. Fields whose name
// starts with "_" are ignored, as Kii documents for its own (a client may send a user it read back, with
// `_hasPassword` and the like, unchanged).
import { kiiInvalidInput } from "./kii-error.js";

/** A JSON object; an empty request body reads as {}. */
export type KiiBody = Readonly<Record<string, unknown>>;

type FieldRule = { type: "string"; maxLength: number } | { type: "boolean" };

type FieldValues<Rules extends Record<string, FieldRule>> = {
  [Name in keyof Rules]?: Rules[Name] extends { type: "string" } ? string : boolean;
};

/**
 * The values of the fields in `rules` (null counts as absent). Refuses, naming every offending field at once: a field
 * of the wrong type or length, one listed in `unsupported` (with why), and any other field.
 */
export function readKiiFields<const Rules extends Record<string, FieldRule>>(
  body: KiiBody,
  rules: Rules,
  unsupported: Readonly<Record<string, string>> = {},
): FieldValues<Rules> {
  const values: Record<string, string | boolean> = {};
  const invalid: Record<string, string> = {};
  let unsupportedGiven = false;
  for (const [name, value] of Object.entries(body)) {
    if (name.startsWith("_") || value === null) continue;
    const rule = ownEntry(rules, name);
    if (!rule) {
      unsupportedGiven = true;
      invalid[name] = ownEntry(unsupported, name) ?? "verifyd does not support this field";
      continue;
    }
    const problem = problemWith(value, rule);
    if (problem) invalid[name] = problem;
    else values[name] = value as string | boolean;
  }
  if (Object.keys(invalid).length > 0) throw kiiInvalidInput(invalid, unsupportedGiven ? "FIELD_UNSUPPORTED" : "FIELD_INVALID");
  return values as FieldValues<Rules>;
}

/**
 * The table's own entry for a name from the request: a plain lookup would find what every object inherits, so that
 * "constructor" or "toString" would read as a field the endpoint takes.
 */
function ownEntry<Value>(table: Readonly<Record<string, Value>>, name: string): Value | undefined {
  return Object.hasOwn(table, name) ? table[name] : undefined;
}

/** Lengths count code points, as the ZITADEL contract's limits do. */
function problemWith(value: unknown, rule: FieldRule): string | undefined {
  if (rule.type === "boolean") return typeof value === "boolean" ? undefined : "must be true or false";
  if (typeof value !== "string") return "must be a string";
  const length = [...value].length;
  return length >= 1 && length <= rule.maxLength ? undefined : `must be 1 to ${rule.maxLength} characters`;
}

/** A field that must be present, else refused by name. */
export function requiredField<T>(value: T | undefined, name: string): T {
  if (value === undefined) throw kiiInvalidInput({ [name]: "is required" }, "FIELD_INVALID");
  return value;
}
