// One-time codes: created uniformly from an alphabet and never kept in plain text; only a keyed hash is stored.
import type { Channel } from "./errors.js";

export interface CodePolicy {
  length: number;
  alphabet: string;
  ttlMs: number;
  /** Wrong attempts a single code survives; the next wrong one leaves it dead. */
  maxAttempts: number;
}

/** Returns a uniformly distributed integer in [0, max); backed by a CSPRNG without modulo bias. */
export type RandomIndex = (max: number) => number;

export function generateCode(policy: Pick<CodePolicy, "length" | "alphabet">, randomIndex: RandomIndex): string {
  const symbols = [...policy.alphabet];
  let code = "";
  for (let i = 0; i < policy.length; i++) code += symbols[randomIndex(symbols.length)];
  return code;
}

/**
 * A code as it was issued, from what the person typed: spaces, line breaks and invisible characters dropped wherever
 * they are (a paste brings them around it, some messages group a code as "530 193", a right-to-left page wraps it in
 * isolates; no alphabet holds them, config-code-alphabet.ts), fullwidth forms (Chinese and Japanese input methods)
 * and other scripts' digits (an Arabic keyboard types ٤٤٦) read as the ASCII the codes are made of.
 */
export function typedCode(typed: string): string {
  // Most codes arrive as typed in ASCII and need nothing more: the rest took 2.5 µs and 2 KB of garbage per call.
  if (!nonAscii.test(typed)) return asciiSpace.test(typed) ? typed.replace(asciiSpaces, "") : typed;
  return typed
    .normalize("NFKC")
    .replace(spacesAndInvisibles, "")
    .replace(/\p{Nd}/gu, (digit) => String(digitValue(digit.codePointAt(0) as number)));
}

const nonAscii = /[^\x00-\x7f]/;
const asciiSpace = /\s/;
const asciiSpaces = /\s/g;
// White space, and format characters: zero-width spaces and joiners, soft hyphens, bidirectional marks, byte order marks.
const spacesAndInvisibles = /[\p{White_Space}\p{Cf}]/gu;

/** Unicode's decimal digits come in runs of ten, zero to nine, some runs side by side. */
function digitValue(codePoint: number): number {
  let runStart = codePoint;
  while (isDecimalDigit(runStart - 1)) runStart--;
  return (codePoint - runStart) % 10;
}

function isDecimalDigit(codePoint: number): boolean {
  return codePoint >= 0 && /\p{Nd}/u.test(String.fromCodePoint(codePoint));
}

/** What a code hash is bound to: a code for one user, channel and address verifies nothing else. */
export interface CodeBinding {
  userId: string;
  channel: Channel;
  destination: string;
}

/** Keyed hashing of codes; implemented with HMAC over a keyring so older keys still verify after a rotation. */
export interface CodeHasher {
  hash(code: string, binding: CodeBinding): { hash: string; keyId: string };
  /** Constant-time comparison; false when the key id is unknown. */
  matches(code: string, binding: CodeBinding, stored: { hash: string; keyId: string }): boolean;
  /** Whether codes hashed with this key can still be checked. */
  knowsKey(keyId: string): boolean;
}
