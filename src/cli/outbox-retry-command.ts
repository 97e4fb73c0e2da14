// `verifyd outbox retry`: makes dead messages due again with their attempts reset; the outbox worker of any server
// on the database sends them on its next round (or the next server to start does). A message whose code expired
// meanwhile is not retried: it could only deliver a code that no longer verifies.
import type { CommandDefinition } from "./command.js";
import { CommandFailure } from "./command-failure.js";
import { parseCommandLine } from "./command-line.js";
import { withExistingStores } from "./open-existing-database.js";
import { UsageError } from "./usage-error.js";

export const outboxRetryCommand: CommandDefinition<"database"> = {
  arguments: { usage: "<id>... | --all", min: 0, max: Number.POSITIVE_INFINITY },
  description: [
    "Give the ids verifyd outbox list-dead shows, or --all. Each message keeps its id, which providers see as its",
    "idempotency key (webhook-id). Exits 1 if some of the given ids are not dead messages (unknown, delivered, or",
    "their code expired); the others are retried.",
  ].join("\n"),
  flags: {
    all: { type: "boolean", description: "Retry every dead message." },
    json: { type: "boolean", description: 'Print {"retried": <count>} instead of a sentence.' },
  },
  settings: ["database"],
  async run(args, env) {
    const { settings, flags, positionals } = parseCommandLine(outboxRetryCommand, args, env);
    if (flags.all === true && positionals.length > 0) throw new UsageError("give the ids of dead messages or --all, not both");
    if (flags.all !== true && positionals.length === 0) throw new UsageError("give the ids of dead messages, or --all");
    // Message ids are decimal, as list-dead shows them; anything else is a slip of the hand, not a message.
    const malformed = positionals.find((id) => !/^\d{1,20}$/.test(id));
    if (malformed !== undefined) throw new UsageError(`"${malformed}" is not a message id; give the ids verifyd outbox list-dead shows`);
    const ids = [...new Set(positionals)];
    const retried = await withExistingStores(settings.database, (stores) => stores.outbox.retryDead(flags.all ? "all" : ids, new Date()));
    process.stdout.write(flags.json ? `${JSON.stringify({ retried })}\n` : `retried ${retried} message(s)\n`);
    if (!flags.all && retried < ids.length) {
      throw new CommandFailure(`${ids.length - retried} of the ${ids.length} given messages are not dead, or their code expired; see verifyd outbox list-dead`);
    }
    return 0;
  },
};
