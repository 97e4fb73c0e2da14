// What an SMTP server's refusal means for the outbox. RFC 5321: a 5xx reply is permanent, the same message would
// be refused again (550 mailbox unavailable, 553 mailbox name not allowed, 535 credentials refused); a 4xx reply is
// transient (450 mailbox busy, 421 closing, greylisting). nodemailer reads the reply class into `permanent`, and
// counts 503 (bad sequence of commands) as transient: a new connection may succeed. A 5xx to the session's own
// commands (535 to the login, 5xx to STARTTLS) is final too: the operator must act, then retry the dead message.
// Everything without a reply (a refused connection, a failed TLS handshake, a timeout) is retried.
import type { NodemailerError } from "nodemailer/lib/errors";
import { PermanentDeliveryFailure } from "../permanent-delivery-failure.js";

/**
 * The error to throw for a failed send. nodemailer's texts never hold the password: it has the host and the
 * credentials apart, never the URL. The recipient's address, which servers quote, is masked by the logger.
 */
export function smtpFailure(error: unknown, server: string): Error {
  const failure = error as NodemailerError;
  const text = describe(failure, server);
  return failure.permanent ? new PermanentDeliveryFailure(text) : new Error(text);
}

function describe(failure: NodemailerError, server: string): string {
  if (failure.responseCode === undefined) return `SMTP server ${server} not reached: ${failure.code ?? "error"}: ${failure.message}`;
  const reply = failure.response ?? String(failure.responseCode);
  if (failure.code === "EAUTH") return `SMTP server ${server} refused the credentials: ${reply}; check the user and password in VERIFYD_SMTP_URL`;
  if (failure.command === "STARTTLS") return `SMTP server ${server} refused STARTTLS, which --smtp-require-starttls requires: ${reply}`;
  return `SMTP server ${server} answered ${reply}${failure.command ? ` to ${failure.command}` : ""}`;
}
