// Prints the domain error table for README.md from src/domain/errors.ts, with each error's wire code and HTTP status.
import { Code } from "@connectrpc/connect";
import { toConnectError } from "../src/api/connect-errors.js";
import { errors } from "../src/domain/errors.js";
import { httpStatusFromCode } from "../src/transport/rest/status-json.js";

console.log("| reason | ZITADEL-style id | message | gRPC code | HTTP |\n|---|---|---|---|---|");
for (const make of Object.values(errors)) {
  const error = make("phone" as never);
  const code = toConnectError(error).code;
  console.log(`| \`${error.reason}\` | \`${error.id}\` | ${error.message} | ${code} ${Code[code]} | ${httpStatusFromCode(code)} |`);
}
