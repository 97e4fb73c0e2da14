// `verifyd keys generate`: a fresh master key as one VERIFYD_KEYS entry, `id:base64`, ready to put first in the list.
// Only the key goes to stdout, so that it can go straight into a secret store without passing through a file.
import { randomBytes } from "node:crypto";
import { masterKeyBytes } from "../crypto/keyring.js";
import type { CommandDefinition } from "./command.js";
import { parseCommandLine } from "./command-line.js";
import { UsageError } from "./usage-error.js";

const keyId = /^[A-Za-z0-9._-]{1,64}$/;

export const keysGenerateCommand: CommandDefinition<never> = {
  description: [
    "Prints one keyring entry: an id (by default the time, UTC, as 20261125T180734Z) and 32 random bytes in base64.",
    "VERIFYD_KEYS is a comma-separated list of such entries; the first is current: it makes new codes and seals new",
    "messages, the others still verify and open what was made with them.",
    "",
    "To rotate, put a new key first and keep the old ones after it, then restart the servers:",
    "",
    '  VERIFYD_KEYS="$(verifyd keys generate),$VERIFYD_KEYS"',
    "",
    "Drop an old key once everything made with it has expired: --code-ttl (default 10m) after the restart. A key id",
    "keeps its key for good (the database records a fingerprint of each): never give an id another key. Giving only",
    "new ids retires every old key at once; codes and messages made with them then count as expired.",
  ].join("\n"),
  flags: { id: { type: "string", description: "The key's id: 1 to 64 letters, digits, '.', '_' or '-'." } },
  settings: [],
  async run(args, env) {
    const { flags } = parseCommandLine(keysGenerateCommand, args, env);
    const id = typeof flags.id === "string" ? flags.id : new Date().toISOString().replace(/[-:]|\.\d+/g, "");
    if (!keyId.test(id)) throw new UsageError(`--id must be 1 to 64 letters, digits, ".", "_" or "-" (got "${id}")`);
    process.stdout.write(`${id}:${randomBytes(masterKeyBytes).toString("base64")}\n`);
    return 0;
  },
};
