// A code's lifetime in words of the message's language ("10 minutes", "1 Stunde und 30 Minuten"), from the
// runtime's own locale data, so that a language added only through the templates directory gets it right too.

const units = [
  ["day", 86_400_000],
  ["hour", 3_600_000],
  ["minute", 60_000],
  ["second", 1000],
] as const;

export function lifetimeInWords(ms: number, language: string): string {
  let rest = Math.max(Math.round(ms / 1000) * 1000, 1000);
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
