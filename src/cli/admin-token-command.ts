// `verifyd admin token`: a new personal access token for the IAM_OWNER service account the first start created, for
// when its token file was lost. Written owner-only like the first one (before the token is committed, so a file that
// cannot be written leaves no token nobody has), never printed unless asked, and recorded in the security log.
import { randomInt } from "node:crypto";
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { createSecurityRecorder } from "../api/security-recorder.js";
import { refuseDirectory, writeAdminTokenFile } from "../bootstrap/admin-token-file.js";
import { issueAdministratorToken } from "../bootstrap/bootstrap-instance.js";
import { adminTokenFileOf } from "../config.js";
import { issueAccessToken } from "../crypto/access-token-secret.js";
import { createIdGenerator } from "../domain/ids.js";
import { createLogger } from "../logger.js";
import type { Stores } from "../store/stores.js";
import type { CommandDefinition } from "./command.js";
import { CommandFailure } from "./command-failure.js";
import { parseCommandLine } from "./command-line.js";
import { withExistingStores } from "./open-existing-database.js";
import { UsageError } from "./usage-error.js";

export const adminTokenCommand: CommandDefinition<"database" | "adminTokenFile" | "personalTokenTtl"> = {
  arguments: { usage: "[<file>]", min: 0, max: 1 },
  description: [
    "Writes the token, readable by its owner only, to <file>, or else to --admin-token-file (by default admin-token",
    "beside the database), and prints only its id and expiry. It is valid for --personal-token-ttl. Tokens issued",
    "before stay valid until they expire or are removed (RemovePersonalAccessToken with the new token); the",
    "security log records the new one as token.created with origin cli.",
    "",
    "Refused when that administrator no longer exists, is deactivated or locked, or is no longer IAM_OWNER: then use",
    "the token of another IAM_OWNER.",
  ].join("\n"),
  flags: {
    print: { type: "boolean", description: "Print the token on stdout (for a secret store) instead of writing a file." },
    force: { type: "boolean", description: "Replace the file if it exists." },
  },
  settings: ["database", "adminTokenFile", "personalTokenTtl"],
  async run(args, env) {
    const { settings, flags, positionals } = parseCommandLine(adminTokenCommand, args, env);
    const print = flags.print === true;
    if (print && positionals.length > 0) throw new UsageError("give a file or --print, not both");
    const file = resolve(positionals[0] ?? adminTokenFileOf(settings));
    const clock = { now: () => new Date() };
    const { userId, tokenId, token, expiresAt } = await withExistingStores(settings.database, async (stores) => {
      // Once the database is found: a mistyped database is the first thing to hear about.
      if (!print) refuseDirectory(file);
      if (!print && existsSync(file) && flags.force !== true) {
        throw new UsageError(`${file} exists; give another file, or --force to replace it`);
      }
      const { instance } = stores;
      const deps = {
        tokens: stores.tokens,
        issueToken: issueAccessToken,
        newId: createIdGenerator(clock.now, randomInt),
        personalTokenTtlMs: settings.personalTokenTtl,
      };
      // Under the instance lock: the administrator cannot change between the check and the token.
      const issued = await instance.exclusively(async () => {
        const userId = await instance.administratorId();
        if (userId === undefined) {
          throw new CommandFailure(`${settings.database} has no administrator yet: the server's first start creates it and writes its token`);
        }
        const unusable = await whyUnusable(userId, stores);
        if (unusable) {
          throw new CommandFailure(`the administrator ${userId} the first start created is ${unusable}; use the token of another IAM_OWNER`);
        }
        const issued = await issueAdministratorToken(deps, userId, clock.now(), (token) => {
          if (!print) writeAdminTokenFile(file, `${token}\n`);
        });
        return { userId, ...issued };
      });
      const recordSecurityEvent = createSecurityRecorder({ log: stores.securityLog, clock, logger: createLogger("warn") });
      await recordSecurityEvent({ kind: "token.created", userId: issued.userId, detail: { tokenId: issued.tokenId, kind: "personal", origin: "cli" } });
      return issued;
    });
    const issued = `token ${tokenId} for the administrator ${userId}, valid until ${expiresAt.toISOString()}`;
    if (print) {
      process.stdout.write(`${token}\n`);
      process.stderr.write(`issued ${issued}\n`);
    } else {
      process.stdout.write(`issued ${issued}, written to ${file} (owner-only)\n`);
    }
    return 0;
  },
};

/** Why a token for the administrator could not administer the instance; undefined when it could. */
async function whyUnusable(userId: string, { users, members }: Pick<Stores, "users" | "members">): Promise<string | undefined> {
  const state = await users.load(userId);
  if (state === undefined) return "gone";
  if (state.status === "locked") return "locked";
  if (state.status === "inactive") return "deactivated";
  const { instanceRoles } = await members.grantsOf(userId);
  return instanceRoles.includes("IAM_OWNER") ? undefined : "no longer IAM_OWNER";
}
