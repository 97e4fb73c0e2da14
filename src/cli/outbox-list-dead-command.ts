// `verifyd outbox list-dead`: the messages delivery gave up on (retries ran out, or the provider refused them for
// good) whose code has not expired yet, so an operator can judge whether to retry them. Never their text or address.
import type { DeadMessage } from "../domain/ports.js";
import { withControlsShown } from "../domain/unicode-notation.js";
import type { CommandDefinition } from "./command.js";
import { parseCommandLine } from "./command-line.js";
import { withExistingStores } from "./open-existing-database.js";
import { textTable } from "./text-table.js";

export const outboxListDeadCommand: CommandDefinition<"database"> = {
  description: [
    "Oldest first: the message's id (for verifyd outbox retry), its channel and user, the attempts made, when it was",
    "created and last failed, when its code expires (it is wiped then), and the last error. Messages whose code",
    "expired are not listed: no retry could deliver them. The text and the phone number or address are not shown;",
    "they stay sealed.",
  ].join("\n"),
  flags: {
    json: {
      type: "boolean",
      description: "Print a JSON array (id, userId, channel, attempts, lastError, createdAt, lastFailureAt, expiresAt) for scripts.",
    },
  },
  settings: ["database"],
  async run(args, env) {
    const { settings, flags } = parseCommandLine(outboxListDeadCommand, args, env);
    const dead = await withExistingStores(settings.database, (stores) => stores.outbox.listDead(new Date()));
    if (flags.json) process.stdout.write(`${JSON.stringify(dead)}\n`);
    else if (dead.length === 0) process.stdout.write("no dead messages\n");
    else process.stdout.write(`${table(dead)}\n`);
    return 0;
  },
};

function table(dead: readonly DeadMessage[]): string {
  const time = (at: Date | undefined) => (at ? at.toISOString().replace(/\.\d+Z$/, "Z") : "-");
  return textTable(
    ["ID", "CHANNEL", "USER", "ATTEMPTS", "CREATED", "LAST FAILURE", "EXPIRES", "LAST ERROR"],
    dead.map((message) => [
      message.id,
      message.channel,
      message.userId,
      String(message.attempts),
      time(message.createdAt),
      time(message.lastFailureAt),
      time(message.expiresAt),
      // Stored before provider texts were cleaned of escape sequences, too: shown, not run by the terminal.
      withControlsShown(message.lastError ?? "-").replace(/\s+/g, " "),
    ]),
  );
}
