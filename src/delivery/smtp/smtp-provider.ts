// Delivers email through an SMTP server (a relay or a vendor's submission port) with nodemailer, over pooled
// connections: kept open between messages, they spare a TLS handshake and a login per code, and the few of them
// (nodemailer's default, 5) carry a batch the outbox worker hands over side by side while staying under the
// connections per client that submission servers allow. SMTP has no idempotency key; the Message-ID is derived from
// the outbox message id instead, so that a retry after a lost answer is recognisable as the same message.
import { createTransport } from "nodemailer";
import type { OutgoingMessage } from "../../domain/outgoing-message.js";
import type { DeliveryProvider } from "../delivery-provider.js";
import { smtpFailure } from "./smtp-failure.js";
import type { SmtpSettings } from "./smtp-settings.js";

export interface SmtpProvider extends DeliveryProvider {
  /** Closes the pooled connections. */
  close(): void;
}

export function createSmtpProvider(settings: SmtpSettings, timeoutMs: number): SmtpProvider {
  const { server, from } = settings;
  const transport = createTransport({
    pool: true,
    host: server.host,
    port: server.port,
    secure: server.implicitTls,
    requireTLS: settings.requireStartTls,
    ...(server.auth ? { auth: server.auth } : {}),
    tls: { minVersion: "TLSv1.2", ...(settings.ca ? { ca: settings.ca } : {}) },
    // A connection that is not up within the worker's wait for a message is given up with it. A send the worker gives
    // up on is aborted, which closes its connection; idle ones close after nodemailer's idle timeout (4 minutes).
    connectionTimeout: timeoutMs,
    greetingTimeout: timeoutMs,
  });
  const domain = from.address.slice(from.address.lastIndexOf("@") + 1);
  return {
    async deliver(message: OutgoingMessage, signal: AbortSignal, messageId: string) {
      try {
        await transport.sendMail({
          from,
          to: message.destination,
          subject: message.subject,
          text: message.text,
          ...(message.html === undefined ? {} : { html: message.html }),
          messageId: `<verifyd.${messageId}@${domain}>`,
          // RFC 3834: a machine's message, which vacation responders leave unanswered.
          headers: { "auto-submitted": "auto-generated" },
          signal,
        });
      } catch (error) {
        throw smtpFailure(error, server.host);
      }
    },
    close: () => transport.close(),
  };
}
