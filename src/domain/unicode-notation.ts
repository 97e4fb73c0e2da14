// Characters as Unicode names them, for messages about characters that cannot be shown (a NUL) or that look like
// others (e and a combining accent beside é).

/** "U+0065 U+0301" for e and a combining acute accent. */
export function unicodeNotation(text: string): string {
  return [...text].map((character) => `U+${character.codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0")}`).join(" ");
}
