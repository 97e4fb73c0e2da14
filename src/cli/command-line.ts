// Parses a command's arguments: its own flags, the flags of the settings it reads (whose environment variables count
// too, as for `serve`), and its positional arguments. Mistakes are thrown for the dispatcher to report in one line.
import { parseArgs } from "node:util";
import { ConfigError, type SettingName, type Values, readSettings, settingArgs } from "../config.js";
import type { CommandDefinition } from "./command.js";
import { UsageError } from "./usage-error.js";

export interface CommandLine<K extends SettingName> {
  settings: Pick<Values, K>;
  flags: Readonly<Record<string, string | boolean | undefined>>;
  positionals: string[];
}

export function parseCommandLine<K extends SettingName>(
  definition: CommandDefinition<K>,
  args: readonly string[],
  env: NodeJS.ProcessEnv,
): CommandLine<K> {
  const ownFlags = Object.fromEntries(Object.entries(definition.flags ?? {}).map(([name, flag]) => [name, { type: flag.type }]));
  const settingFlags = settingArgs(definition.settings, args);
  const { values: flags, positionals } = parseArgs({
    args: settingFlags.args,
    options: { ...settingFlags.options, ...ownFlags },
    strict: true,
    allowNegative: true,
    allowPositionals: true,
  });
  const expected = definition.arguments ?? { usage: "", min: 0, max: 0 };
  if (positionals.length > expected.max) throw new UsageError(`unexpected argument "${positionals[expected.max]}"`);
  if (positionals.length < expected.min) throw new UsageError(`missing ${expected.usage}`);
  const { values, problems } = readSettings(definition.settings, flags, env);
  if (problems.length > 0) throw new ConfigError(problems);
  return { settings: values, flags, positionals };
}
