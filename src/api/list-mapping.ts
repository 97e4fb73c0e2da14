// What every v2 list call shares: ListQuery's page, TextQueryMethod, and ListDetails in the answer.
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { type Timestamp, timestampDate, timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { TextMatch } from "../domain/text-match.js";
import { type TextFilterMethod, TimestampFilterMethod } from "../gen/zitadel/filter/v2beta/filter_pb.js";
import { type ListDetails, ListDetailsSchema, type ListQuery, TextQueryMethod } from "../gen/zitadel/object/v2/object_pb.js";

/**
 * The most filters one list call may carry, nested ones included: each becomes a term of one SQL expression, and
 * SQLite refuses expressions past a depth of 1000.
 */
const maxFilters = 100;

/** Throws InvalidArgument past maxFilters. */
export function checkFilterCount(count: number): void {
  if (count > maxFilters) {
    throw new ConnectError(`at most ${maxFilters} queries, nested ones included; got ${count}`, Code.InvalidArgument);
  }
}

/** ZITADEL's default page, and the most one call may ask for. */
const defaultLimit = 100;
const maxLimit = 1000;

export interface Page {
  offset: number;
  limit: number;
  ascending: boolean;
}

// An offset past every row this service can hold answers an empty page either way, and stays an exact number.
const maxOffset = BigInt(Number.MAX_SAFE_INTEGER);

/** v2's ListQuery, or the v2beta PaginationRequest of the same shape. */
export function toPage(query: Pick<ListQuery, "offset" | "limit" | "asc"> | undefined): Page {
  const offset = query?.offset ?? 0n;
  return {
    offset: Number(offset > maxOffset ? maxOffset : offset),
    limit: query?.limit ? Math.min(query.limit, maxLimit) : defaultLimit,
    ascending: query?.asc ?? false,
  };
}

const textMatches: Record<TextQueryMethod, TextMatch> = {
  [TextQueryMethod.EQUALS]: "equals",
  [TextQueryMethod.EQUALS_IGNORE_CASE]: "equalsIgnoreCase",
  [TextQueryMethod.STARTS_WITH]: "startsWith",
  [TextQueryMethod.STARTS_WITH_IGNORE_CASE]: "startsWithIgnoreCase",
  [TextQueryMethod.CONTAINS]: "contains",
  [TextQueryMethod.CONTAINS_IGNORE_CASE]: "containsIgnoreCase",
  [TextQueryMethod.ENDS_WITH]: "endsWith",
  [TextQueryMethod.ENDS_WITH_IGNORE_CASE]: "endsWithIgnoreCase",
};

/** Validation admits only defined methods. v2beta's TextFilterMethod numbers them as TextQueryMethod does. */
export function toTextMatch(method: TextQueryMethod | TextFilterMethod): TextMatch {
  return textMatches[method as number as TextQueryMethod];
}

export function toListDetails(total: number, at: Date): ListDetails {
  return create(ListDetailsSchema, { totalResult: BigInt(total), timestamp: timestampFromDate(at) });
}

/** v2's and v2beta's TimestampFilter: the same fields, and methods numbered alike (after = greater, before = less). */
export function matchesTimestampFilter(at: Date, filter: { timestamp?: Timestamp | undefined; method: number }): boolean {
  const wanted = filter.timestamp ? timestampDate(filter.timestamp).getTime() : 0;
  const actual = at.getTime();
  switch (filter.method as TimestampFilterMethod) {
    case TimestampFilterMethod.GREATER:
      return actual > wanted;
    case TimestampFilterMethod.GREATER_OR_EQUALS:
      return actual >= wanted;
    case TimestampFilterMethod.LESS:
      return actual < wanted;
    case TimestampFilterMethod.LESS_OR_EQUALS:
      return actual <= wanted;
    default:
      return actual === wanted;
  }
}
