// gRPC's code names as Connect spells them (Code.InvalidArgument → "invalid_argument"), for the access line and the
// call metrics: connect-es's codeToString, worked out once per code rather than with a regular expression per failed call.
import { Code } from "@connectrpc/connect";
import { codeToString } from "@connectrpc/connect/protocol-connect";

const names = new Map<Code, string>();

export function codeName(code: Code): string {
  let name = names.get(code);
  if (name === undefined) {
    name = codeToString(code);
    // Only the codes gRPC defines: anything else a client or library makes up is named but not remembered.
    if (code in Code) names.set(code, name);
  }
  return name;
}
