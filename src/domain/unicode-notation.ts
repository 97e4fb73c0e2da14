// Characters as Unicode names them, for messages about characters that cannot be shown (a NUL) or that look like
// others (e and a combining accent beside é), and for text from elsewhere that must not act on a terminal.

/** "U+0065 U+0301" for e and a combining acute accent. */
export function unicodeNotation(text: string): string {
  return [...text].map((character) => `U+${character.codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0")}`).join(" ");
}

// Control characters (an escape sequence can clear an operator's terminal, retitle it or print forged lines) and the
// characters that reorder text, in a text that came from elsewhere: a provider's refusal, kept and shown later.
const unsafeForTerminal = /[\p{Cc}\u202A-\u202E\u2066-\u2069]/gu;

/** `text` with its line breaks and tabs as spaces, and every other control or reordering character as U+XXXX. */
export function withControlsShown(text: string): string {
  return text.replace(unsafeForTerminal, (character) => (/[\t\n\r]/.test(character) ? " " : unicodeNotation(character)));
}
