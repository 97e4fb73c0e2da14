// Prints the domain error table for README.md from src/domain/errors.ts, with each error's wire code and HTTP status.
import { Code } from "@connectrpc/connect";
import { toConnectError } from "../src/api/connect-errors.js";
import { type DomainError, errors } from "../src/domain/errors.js";
import { httpStatusFromCode } from "../src/transport/rest/status-json.js";

console.log("| reason | ZITADEL-style id | message | gRPC code | HTTP |\n|---|---|---|---|---|");
// Arguments for the factories that take more than a channel; the table does not show them. A factory whose message
// depends on its arguments has a row for each message.
const sampleArguments: Partial<Record<keyof typeof errors, unknown[][]>> = {
  codeInvalid: [[4]],
  tooManyFailures: [[60_000]],
  passwordChecksThrottled: [[60_000]],
  sendLimitReached: [["sends_per_destination_10m", 60_000], ["send_cooldown", 60_000]],
  verifyLimitReached: [["verifications_per_user_hour", 60_000]],
  phoneCountryNotAllowed: [["1"]],
  limitRaiseDenied: [[["sends_per_caller_hour"]]],
  userStateNotChanged: [["inactive"]],
  nothingToResend: [["phone", false], ["phone", true]],
  listTooCostly: [[500]],
  roleInvalid: [["FOO"]],
  contactInUse: [["phone"], ["email"]],
  textInvalid: [["username", "may not begin or end with a space"]],
};
for (const [name, make] of Object.entries(errors)) {
  for (const args of sampleArguments[name as keyof typeof errors] ?? [["phone"]]) {
    const error = (make as (...args: unknown[]) => DomainError)(...args);
    const code = toConnectError(error).code;
    console.log(`| \`${error.reason}\` | \`${error.id}\` | ${error.message} | ${code} ${Code[code]} | ${httpStatusFromCode(code)} |`);
  }
}
