// The command line: finds the command named by the first words (none: `serve`), shows --help and --version, and
// turns every error into one line `verifyd: …` on stderr with exit code 2 (could not run as given) or 1 (failed
// while running), never a stack trace.
import { constants } from "node:os";
import { ConfigError } from "../config.js";
import { StartupError } from "../startup-error.js";
import { CommandFailure } from "./command-failure.js";
import { type CommandEntry, commands } from "./commands.js";
import { commandHelp, generalHelp, groupHelp } from "./help.js";
import { UsageError } from "./usage-error.js";
import { packageVersion } from "../package-version.js";

const serve = commands.find((entry) => entry.name[0] === "serve")!;

/** Runs the command line `argv` (without node and the script); resolves with the exit code. */
export async function runCli(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  const [first, second] = argv;
  if (first === "--version") return print(`verifyd ${packageVersion()}`);
  if (first === "--help" || first === "-h") return print(generalHelp(commands, packageVersion()));
  if (first === undefined || first.startsWith("-")) return runCommand(serve, argv, env);
  const group = commands.filter((entry) => entry.name[0] === first);
  const single = group.find((entry) => entry.name.length === 1);
  if (single) return runCommand(single, argv.slice(1), env);
  if (group.length === 0) return report(new UsageError(`unknown command "${first}"`), "verifyd");
  if (second === "--help" || second === "-h") return print(groupHelp(first, group));
  const entry = group.find((candidate) => candidate.name[1] === second);
  if (entry) return runCommand(entry, argv.slice(2), env);
  const choices = group.map((candidate) => candidate.name[1]).join(", ");
  // A flag where the command belongs (`verifyd outbox --database …`) is a missing command, not an unknown one.
  const missing = second === undefined || second.startsWith("-");
  const problem = missing ? `"${first}" needs a command: ${choices}` : `unknown command "${first} ${second}"`;
  return report(new UsageError(problem), `verifyd ${first}`);
}

async function runCommand(entry: CommandEntry, args: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  // The server shuts down on a signal by itself, gracefully; every other command ends through process.exit.
  const exitsOnSignal = entry !== serve;
  if (exitsOnSignal) process.once("SIGINT", exitOnSignal).once("SIGTERM", exitOnSignal);
  // The server logs warnings as JSON lines (serve-command.ts); a command prints them as it prints its problems.
  if (entry !== serve) process.removeAllListeners("warning").on("warning", ({ message }) => printWarning(message));
  try {
    const definition = await entry.load();
    if (asksForHelp(args)) return print(commandHelp(entry, definition));
    return await definition.run(args, env);
  } catch (error) {
    return report(error, `verifyd ${entry.name.join(" ")}`);
  } finally {
    if (exitsOnSignal) process.off("SIGINT", exitOnSignal).off("SIGTERM", exitOnSignal);
  }
}

/**
 * Ctrl-C or a scheduler's SIGTERM: exit as a signal would, but through process.exit, whose exit hooks withdraw the
 * command's presence beside the database (a server holding the file would share it for 30 s otherwise) and remove
 * what the command leaves unfinished, such as a backup's partial copy.
 */
function exitOnSignal(signal: NodeJS.Signals): void {
  process.exit(128 + constants.signals[signal]);
}

/** --help or -h among the flags (not after `--`, where it would be an argument). */
function asksForHelp(args: readonly string[]): boolean {
  const end = args.indexOf("--");
  return (end === -1 ? args : args.slice(0, end)).some((arg) => arg === "--help" || arg === "-h");
}

function print(text: string): number {
  process.stdout.write(`${text}\n`);
  return 0;
}

/** Node prints a warning over several lines, pg's about sslmode over nine. */
function printWarning(message: string): void {
  process.stderr.write(`verifyd: warning: ${message.replace(/\s*\n\s*/g, " ")}\n`);
}

/** One line per problem on stderr; the exit code. `command` names the help to point to. */
function report(error: unknown, command: string): number {
  const fail = (lines: readonly string[], code: number) => {
    process.stderr.write(lines.map((line) => `verifyd: ${line.replace(/\s*\n\s*/g, " ")}\n`).join(""));
    return code;
  };
  if (error instanceof ConfigError) return fail(error.problems, 2);
  if (error instanceof UsageError) return fail([`${error.message}; see ${command} --help`], 2);
  const parseProblem = commandLineProblem(error);
  if (parseProblem) return fail([`${parseProblem}; see ${command} --help`], 2);
  if (error instanceof StartupError) return fail([error.message], 2);
  if (error instanceof CommandFailure) return fail([error.message], 1);
  const { message, code } = error as NodeJS.ErrnoException;
  return fail([`${message ?? String(error)}${code && !message?.includes(code) ? ` (${code})` : ""}`], 1);
}

/** node:util parseArgs's errors, said in the terms of --help. */
function commandLineProblem(error: unknown): string | undefined {
  const { code, message } = error as NodeJS.ErrnoException;
  if (!code?.startsWith("ERR_PARSE_ARGS")) return undefined;
  const quoted = /'([^']+)'/.exec(message)?.[1] ?? "";
  const flag = quoted.split(" ")[0];
  if (code === "ERR_PARSE_ARGS_UNKNOWN_OPTION") return `unknown flag ${flag}`;
  if (code === "ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL") return `unexpected argument "${quoted}"`;
  if (message.includes("argument missing")) return `${flag} needs a value`;
  if (message.includes("ambiguous")) return `${flag} needs a value (one that starts with "-" goes as ${flag}=-…)`;
  if (message.includes("does not take an argument")) return `${flag} takes no value`;
  return message;
}
