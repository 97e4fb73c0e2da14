// What codes can be made of: characters people see one by one and type back as they were issued, enough of them
// for a million codes. Each message names the setting as the user wrote it.
import { unicodeNotation } from "./domain/unicode-notation.js";
import { typedCode } from "./domain/verification-code.js";

/** A million codes, as six digits give: with 5 attempts per code, a guess succeeds with p = 5e-6. */
const minimumCodeSpace = 1_000_000;

const characters = new Intl.Segmenter("en", { granularity: "grapheme" });

export function codeAlphabetProblems(alphabet: string, codeLength: number): string[] {
  const problems: string[] = [];
  const symbols = [...alphabet];
  const joined = joinedCharacters(alphabet);
  // Codes are drawn code point by code point: counted so, "é" as e and U+0301 would be a repeated "e".
  if (joined.length > 0) {
    problems.push(
      `--code-alphabet holds characters of several code points, or combining marks, which a code would join to the character before them: ${joined.map(described).join(" ")}; give each character as one code point (é as U+00E9), or leave it out`,
    );
  } else if (new Set(symbols).size !== symbols.length || symbols.length < 2) {
    problems.push("--code-alphabet must have at least two distinct characters and no repeats");
  } else if (symbols.length ** codeLength < minimumCodeSpace) {
    problems.push(`--code-length and --code-alphabet allow only ${symbols.length ** codeLength} codes; at least a million are needed`);
  }
  const untypable = symbols.filter((symbol) => typedCode(symbol) !== symbol);
  if (untypable.length > 0) {
    problems.push(
      `--code-alphabet holds characters that a submitted code reads as others or drops (spaces, fullwidth forms, other scripts' digits): ${untypable.map((symbol) => JSON.stringify(symbol)).join(" ")}`,
    );
  }
  return problems;
}

/** The characters as people see them that are not one code point, and the marks that join whatever comes before. */
function joinedCharacters(alphabet: string): string[] {
  return [...characters.segment(alphabet)]
    .map(({ segment }) => segment)
    .filter((character) => [...character].length > 1 || /\p{M}/u.test(character));
}

function described(character: string): string {
  return `${JSON.stringify(character)} (${unicodeNotation(character)})`;
}
