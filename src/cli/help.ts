// The --help texts: the command list, a group's commands, and one command's usage, flags and settings. The settings
// come from config.ts's table, so --help says what the README's configuration table says.
import { type SettingName, settings } from "../config.js";
import type { CommandDefinition } from "./command.js";
import type { CommandEntry } from "./commands.js";

const width = 80;

export const exitCodes = [
  "Exit codes:",
  "  0  done",
  "  1  failed while running: reading or writing failed, a check failed,",
  "     `migrate --check` found migrations pending, a shutdown did not finish",
  "     (or a second SIGTERM/SIGINT cut it short)",
  "  2  could not run as given, and did nothing: an unknown command or flag, a",
  "     missing argument, a bad setting, a missing or unreadable file, a",
  "     database that cannot be opened, a port in use",
].join("\n");

export function generalHelp(commands: readonly CommandEntry[], version: string): string {
  const names = commands.map((entry) => entry.name.join(" "));
  const column = Math.max(...names.map((name) => name.length)) + 2;
  return [
    `verifyd ${version}: verifies phone numbers and email addresses behind a ZITADEL-compatible API.`,
    "",
    "Usage: verifyd [<command>] [flags]",
    "",
    "Commands:",
    ...commands.map((entry, index) => `  ${names[index]!.padEnd(column)}${entry.summary}`),
    "",
    ...wrap("Without a command, verifyd serves: `verifyd --port 9000` is `verifyd serve --port 9000`. Run `verifyd <command> --help` for a command's flags and settings, and `verifyd --version` for the version.", ""),
    "",
    exitCodes,
  ].join("\n");
}

export function groupHelp(group: string, commands: readonly CommandEntry[]): string {
  const column = Math.max(...commands.map((entry) => entry.name.join(" ").length)) + 2;
  return [
    `Usage: verifyd ${group} <command> [flags]`,
    "",
    "Commands:",
    ...commands.map((entry) => `  ${entry.name.join(" ").padEnd(column)}${entry.summary}`),
    "",
    `Run \`verifyd ${group} <command> --help\` for a command's flags and settings.`,
  ].join("\n");
}

export function commandHelp(entry: CommandEntry, definition: CommandDefinition): string {
  const name = entry.name.join(" ");
  const flags = Object.entries(definition.flags ?? {}).map(([flag, { type, description }]) => ({
    heading: `--${flag}${type === "string" ? " <value>" : ""}`,
    description,
  }));
  flags.push({ heading: "--help, -h", description: "Show this help." });
  const lines = [
    `Usage: verifyd ${name}${definition.arguments ? ` ${definition.arguments.usage}` : ""} [flags]`,
    "",
    ...paragraphs(`${entry.summary}\n\n${definition.description}`),
    "",
    "Flags:",
    ...flags.flatMap(({ heading, description }) => [`  ${heading}`, ...wrap(description, "      ")]),
  ];
  if (definition.settings.length > 0) {
    lines.push("", "Settings (a flag, or its environment variable; a flag wins):", ...definition.settings.flatMap(settingHelp));
  }
  lines.push("", exitCodes);
  return lines.join("\n");
}

function settingHelp(name: SettingName): string[] {
  const setting: { flag: string; env: string; description: string; default?: string; boolean?: true } = settings[name];
  // A boolean's flag turns it on; --no-<flag> turns off what the environment turned on.
  const value = setting.boolean ? `, --no-${setting.flag}` : " <value>";
  const fallback = setting.default ? `, default ${setting.default}` : "";
  return [`  --${setting.flag}${value}  (${setting.env}${fallback})`, ...wrap(setting.description, "      ")];
}

/** Paragraphs separated by blank lines, each wrapped; lines indented in the source (examples) stay as they are. */
function paragraphs(text: string): string[] {
  return text
    .split("\n\n")
    .flatMap((paragraph, index) => [
      ...(index > 0 ? [""] : []),
      ...(paragraph.startsWith("  ") ? paragraph.split("\n") : wrap(paragraph.replace(/\s*\n\s*/g, " "), "")),
    ]);
}

function wrap(text: string, indent: string): string[] {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line !== "" && indent.length + line.length + 1 + word.length > width) {
      lines.push(indent + line);
      line = word;
    } else {
      line = line === "" ? word : `${line} ${word}`;
    }
  }
  if (line !== "") lines.push(indent + line);
  return lines;
}
