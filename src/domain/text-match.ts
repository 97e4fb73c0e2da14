// How a text filter of a list query compares: ZITADEL's TextQueryMethod, by name.
export type TextMatch =
  | "equals"
  | "equalsIgnoreCase"
  | "startsWith"
  | "startsWithIgnoreCase"
  | "contains"
  | "containsIgnoreCase"
  | "endsWith"
  | "endsWithIgnoreCase";
