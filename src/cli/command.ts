// What every command of the command line declares: its arguments and flags for parsing and --help, the settings of
// the configuration table it reads, and what it does. The dispatcher (run-cli.ts) finds it and reports its errors.
import type { SettingName } from "../config.js";

/** A flag of the command's own, beside the settings it reads. */
export interface CommandFlag {
  type: "boolean" | "string";
  description: string;
}

export interface CommandArguments {
  /** As --help shows them after the command's name: `<file>`, `[<id>...]`. */
  usage: string;
  min: number;
  max: number;
}

export interface CommandDefinition<K extends SettingName = SettingName> {
  arguments?: CommandArguments;
  /** Paragraphs for --help, after the usage line. */
  description: string;
  flags?: Readonly<Record<string, CommandFlag>>;
  /** Settings (flag and environment variable, as `serve` reads them) this command reads; --help lists them. */
  settings: readonly K[];
  /** Runs with the arguments after the command's name; resolves with the exit code. */
  run(args: readonly string[], env: NodeJS.ProcessEnv): Promise<number>;
}
