// The id that ties a call's log lines together, sent back as x-request-id on every protocol. A client's own
// x-request-id is kept when it is a sane token (1 to 128 printable ASCII characters), so that logs correlate across
// the services a request passes; anything else (too long, control characters, several values) gets a fresh id, and
// so does one that the logs would mask (it holds an address, a number or a credential): the id in the log lines
// would no longer be the one the client knows.
import { randomUUID } from "node:crypto";
import { redactText } from "../redaction.js";
import type { NodeRequest } from "./call-context.js";

const saneRequestId = /^[\x20-\x7e]{1,128}$/;

export function requestIdOf(req: NodeRequest): string {
  const given = req.headers["x-request-id"];
  return typeof given === "string" && saneRequestId.test(given) && redactText(given) === given ? given : randomUUID();
}
