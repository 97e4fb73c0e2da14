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

/**
 * The most text queries (user name, email, phone, in any method) one list call may carry, nested ones included, and the
 * most characters their values may hold together. No index serves them: each is compared with every user the caller
 * may read, so their number multiplies what a list costs (99 of them over 300,000 users took 18 s), and values nested
 * in or, and and not escape the contract's length rules.
 */
const maxTextQueries = 10;
const maxTextQueryCharacters = 1_000;

/** Throws InvalidArgument past maxTextQueries or maxTextQueryCharacters; `values` are the text queries' values. */
export function checkTextQueries(values: readonly string[]): void {
  if (values.length > maxTextQueries) {
    throw new ConnectError(
      `at most ${maxTextQueries} text queries (user name, email, phone), nested ones included; got ${values.length}`,
      Code.InvalidArgument,
    );
  }
  const characters = values.reduce((sum, value) => sum + [...value].length, 0);
  if (characters > maxTextQueryCharacters) {
    throw new ConnectError(
      `at most ${maxTextQueryCharacters} characters in the values of text queries together; got ${characters}`,
      Code.InvalidArgument,
    );
  }
}

/**
 * The most list calls of one caller (all its tokens together) that may run at once in a process: each may hold a read
 * for its whole budget (errors.listTooCostly), a pooled PostgreSQL connection or SQLite's turn, so a caller's
 * burst is refused rather than queued in front of everyone else's calls.
 */
const maxRunningListsPerCaller = 2;

/** Runs list calls, refusing with ResourceExhausted a caller's call beyond maxRunningListsPerCaller. */
export function createListCallLimit(): <T>(callerId: string, list: () => Promise<T>) => Promise<T> {
  const running = new Map<string, number>();
  return async (callerId, list) => {
    const alreadyRunning = running.get(callerId) ?? 0;
    if (alreadyRunning >= maxRunningListsPerCaller) {
      throw new ConnectError(
        `at most ${maxRunningListsPerCaller} list calls of one caller run at once; send this one when another has answered`,
        Code.ResourceExhausted,
      );
    }
    running.set(callerId, alreadyRunning + 1);
    try {
      return await list();
    } finally {
      const stillRunning = (running.get(callerId) ?? 1) - 1;
      if (stillRunning === 0) running.delete(callerId);
      else running.set(callerId, stillRunning);
    }
  };
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
