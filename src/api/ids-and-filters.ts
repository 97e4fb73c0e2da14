// Ids and filter values go to the database as sent, so one that holds a control character (which none can hold, see
// control-characters.ts) is refused before the call starts, naming the field, on every RPC alike: TEXT_INVALID, as
// the same characters in a new user's names are. The contracts name every id `id`, `ids`, `…_id` or `…_ids`, and
// every list call's filters sit in `queries` or `filters`. Other text keeps its own rules, which say more: a name is
// TEXT_INVALID for what it holds, a phone number PHONE_INVALID, and a code may carry the line break of a paste.
import type { DescField, DescMessage } from "@bufbuild/protobuf";
import { holdsControlCharacter } from "../domain/control-characters.js";
import { errors } from "../domain/errors.js";

const idField = /(?:^|_)ids?$/;
const filterLists = new Set(["queries", "filters"]);

/** Throws TEXT_INVALID for the first id or filter value of the request that holds a control character. */
export function refuseControlCharactersInIdsAndFilters(desc: DescMessage, message: object): void {
  const field = refusedFieldIn(desc, message, false);
  if (field !== undefined) throw errors.textInvalid(field, "may not hold control characters");
}

/**
 * The path of the first refused field, with proto names as protovalidate writes it
 * ("queries[0].user_name_query.user_name"). Built only for a refusal: most calls refuse nothing.
 */
function refusedFieldIn(desc: DescMessage, message: object, inFilters: boolean): string | undefined {
  for (const field of desc.fields) {
    const value = valueOf(field, message as Record<string, unknown>);
    if (value === undefined) continue;
    const below = refusedWithin(field, value, inFilters || filterLists.has(field.name));
    if (below !== undefined) return `${field.name}${below}`;
  }
  return undefined;
}

/** Where in the field's value the refused text is: "" for the value itself, "[1]" or ".id" or "[0].id" within it. */
function refusedWithin(field: DescField, value: unknown, inFilters: boolean): string | undefined {
  switch (field.fieldKind) {
    case "scalar":
      return isRefusedText(field, value, inFilters) ? "" : undefined;
    case "message":
      return nestedPath(refusedFieldIn(field.message, value as object, inFilters));
    case "list":
      for (const [index, item] of (value as unknown[]).entries()) {
        const found =
          field.listKind === "message"
            ? nestedPath(refusedFieldIn(field.message, item as object, inFilters))
            : isRefusedText(field, item, inFilters) ? "" : undefined;
        if (found !== undefined) return `[${index}]${found}`;
      }
      return undefined;
    // No map of these contracts' requests holds ids or filters.
    default:
      return undefined;
  }
}

function nestedPath(path: string | undefined): string | undefined {
  return path === undefined ? undefined : `.${path}`;
}

/** An id's text, or any text in filters, holding a control character. */
function isRefusedText(field: DescField, value: unknown, inFilters: boolean): boolean {
  return typeof value === "string" && (inFilters || idField.test(field.name)) && holdsControlCharacter(value);
}

/** A field's value in a protobuf-es message: a member of a oneof is set when the oneof's case names it. */
function valueOf(field: DescField, message: Record<string, unknown>): unknown {
  if (field.oneof === undefined) return message[field.localName];
  const chosen = message[field.oneof.localName] as { case?: string; value?: unknown };
  return chosen.case === field.localName ? chosen.value : undefined;
}
