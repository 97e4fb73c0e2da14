// Every command, by the words that name it, with the line `verifyd --help` shows. A command's module is loaded only
// when it runs or shows its help: `verifyd --version` and `verifyd keys generate` need not load the server.
import type { CommandDefinition } from "./command.js";

export interface CommandEntry {
  /** One word, or a group and a word: ["backup"], ["outbox", "retry"]. */
  name: readonly [string] | readonly [string, string];
  summary: string;
  load(): Promise<CommandDefinition>;
}

export const commands: readonly CommandEntry[] = [
  {
    name: ["serve"],
    summary: "Start the server (the default when no command is given).",
    load: async () => (await import("./serve-command.js")).serveCommand,
  },
  {
    name: ["migrate"],
    summary: "Apply pending database migrations, or list them with --check.",
    load: async () => (await import("./migrate-command.js")).migrateCommand,
  },
  {
    name: ["backup"],
    summary: "Copy the database to a file, consistently, while servers use it.",
    load: async () => (await import("./backup-command.js")).backupCommand,
  },
  {
    name: ["restore"],
    summary: "Put a backup in the database's place, with the servers stopped.",
    load: async () => (await import("./restore-command.js")).restoreCommand,
  },
  {
    name: ["outbox", "list-dead"],
    summary: "List the messages whose delivery was given up.",
    load: async () => (await import("./outbox-list-dead-command.js")).outboxListDeadCommand,
  },
  {
    name: ["outbox", "retry"],
    summary: "Deliver dead messages again.",
    load: async () => (await import("./outbox-retry-command.js")).outboxRetryCommand,
  },
  {
    name: ["keys", "generate"],
    summary: "Print a new key for VERIFYD_KEYS.",
    load: async () => (await import("./keys-generate-command.js")).keysGenerateCommand,
  },
  {
    name: ["admin", "token"],
    summary: "Issue a new token for the administrator the first start created.",
    load: async () => (await import("./admin-token-command.js")).adminTokenCommand,
  },
];
