// The spellings of a boolean setting's flag, the same for every one: `--reflection` turns it on, `--no-reflection`
// off, and `--reflection=false` or `--reflection false` give a value as its variable takes one (true, false, yes, no,
// 1, 0). node:util parseArgs's boolean flags take no value and its string flags need one, so each boolean flag is
// given its value here and parsed as a string flag: the setting's parser then reads it as it reads the variable, and
// refuses a wrong one with the same message.

/** `args` with every flag in `booleanFlags` carrying its value; after `--` come arguments, left as they are. */
export function withBooleanValues(args: readonly string[], booleanFlags: ReadonlySet<string>): string[] {
  const end = args.indexOf("--");
  const flags = end === -1 ? args : args.slice(0, end);
  const valued = flags.map((arg, index) => {
    if (arg.startsWith("--no-") && booleanFlags.has(arg.slice("--no-".length))) return `--${arg.slice("--no-".length)}=false`;
    if (!arg.startsWith("--") || !booleanFlags.has(arg.slice("--".length))) return arg;
    // A word after the flag is its value (`--reflection false`), refused by the parser unless it is one.
    const next = flags[index + 1];
    return next === undefined || next.startsWith("-") ? `${arg}=true` : arg;
  });
  return end === -1 ? valued : [...valued, ...args.slice(end)];
}
