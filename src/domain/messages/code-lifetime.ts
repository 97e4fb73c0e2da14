// A code's lifetime in words of the message's language ("10 minutes", "1 Stunde und 30 Minuten"), from the
// runtime's own locale data, so that a language added only through the templates directory gets it right too.

const units = [
  ["day", 86_400_000],
  ["hour", 3_600_000],
  ["minute", 60_000],
  ["second", 1000],
] as const;

// Intl's formatters are slow to build (about 6% of an AddHumanUser call's CPU in a profile of it), and a
// server words few lifetimes in few languages: each wording is kept. Bounded anyway, as languages come from users.
const worded = new Map<string, string>();
const maxWorded = 256;

export function lifetimeInWords(ms: number, language: string): string {
  const rounded = Math.max(Math.round(ms / 1000) * 1000, 1000);
  const key = `${language} ${rounded}`;
  let words = worded.get(key);
  if (words === undefined) {
    if (worded.size >= maxWorded) worded.clear();
    words = inWords(rounded, language);
    worded.set(key, words);
  }
  return words;
}

function inWords(ms: number, language: string): string {
  let rest = ms;
  const amounts: string[] = [];
  for (const [unit, unitMs] of units) {
    const amount = Math.floor(rest / unitMs);
    if (amount === 0) continue;
    rest -= amount * unitMs;
    amounts.push(new Intl.NumberFormat(language, { style: "unit", unit, unitDisplay: "long" }).format(amount));
  }
  // Some languages (French) put no-break spaces before units, which GSM-7 lacks: one would make a whole SMS UCS-2.
  return new Intl.ListFormat(language, { type: "conjunction" }).format(amounts).replace(/[\u00a0\u202f]/g, " ");
}
