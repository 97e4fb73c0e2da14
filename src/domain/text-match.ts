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

/** In memory, with the same meaning as the stores' SQL: "ignoring case" folds ASCII letters only. */
export function matchesText(match: TextMatch, actual: string, wanted: string): boolean {
  const ignoreCase = match.endsWith("IgnoreCase");
  const fold = (text: string) => (ignoreCase ? text.replace(/[A-Z]/g, (letter) => letter.toLowerCase()) : text);
  const [text, value] = [fold(actual), fold(wanted)];
  switch (match.replace("IgnoreCase", "")) {
    case "startsWith":
      return text.startsWith(value);
    case "endsWith":
      return text.endsWith(value);
    case "contains":
      return text.includes(value);
    default:
      return text === value;
  }
}
