// The SMTP server (VERIFYD_SMTP_URL) and the sender (VERIFYD_EMAIL_FROM), checked at start. The URL carries the
// password, so a refusal never repeats it.
import addressparser from "nodemailer/lib/addressparser";
import { normalizeEmailAddress } from "../../domain/email-address.js";

export interface SmtpServer {
  host: string;
  port: number;
  /** smtps://: TLS from the first byte. smtp:// upgrades with STARTTLS when the server offers it. */
  implicitTls: boolean;
  auth?: { user: string; pass: string };
}

export interface SmtpSettings {
  server: SmtpServer;
  /** smtp:// only: refuse to send unless the server upgrades to TLS with STARTTLS. */
  requireStartTls: boolean;
  /** PEM certificates to trust for the server's certificate instead of the system's (a relay with a private CA). */
  ca?: string;
  from: EmailSender;
}

export interface EmailSender {
  /** The display name, possibly empty. */
  name: string;
  address: string;
}

const defaultPorts = { "smtp:": 587, "smtps:": 465 };

/** smtp[s]://[user[:password]@]host[:port], user and password percent-encoded; nothing after the port. */
export function parseSmtpUrl(raw: string): SmtpServer {
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    if (/^smtps?:\/\//i.test(raw.trim())) {
      throw new Error("is not a valid URL: the port must be a number up to 65535, and @ : / % in the user name or password percent-encoded");
    }
    throw new Error("must be an smtp:// or smtps:// URL, e.g. smtps://user:password@smtp.example.com:465");
  }
  if (url.protocol !== "smtp:" && url.protocol !== "smtps:") throw new Error("must be an smtp:// or smtps:// URL");
  if (!url.hostname) throw new Error("must name the server's host");
  if ((url.pathname !== "" && url.pathname !== "/") || url.search || url.hash) {
    throw new Error("must end after the host and port (no path or query)");
  }
  if (url.password && !url.username) throw new Error("has a password without a user name");
  let auth: SmtpServer["auth"];
  try {
    auth = url.username ? { user: decodeURIComponent(url.username), pass: decodeURIComponent(url.password) } : undefined;
  } catch {
    throw new Error("has a user name or password that is not valid percent-encoding");
  }
  return {
    host: url.hostname.replace(/^\[|\]$/g, ""),
    port: url.port ? Number(url.port) : defaultPorts[url.protocol],
    implicitTls: url.protocol === "smtps:",
    ...(auth ? { auth } : {}),
  };
}

/** `address@example.com` or `Name <address@example.com>`: one mailbox. */
export function parseEmailSender(raw: string): EmailSender {
  // The address parser mends what it can (a missing ">", a line break), and would send a sender nobody wrote.
  if (/\p{Cc}/u.test(raw)) throw new Error("must be one line, without control characters");
  if (/[<>]/.test(raw) && !/^[^<>]*<[^<>]+>\s*$/.test(raw)) throw new Error('must be an address, or a name and <address>, e.g. "Acme <no-reply@acme.example>"');
  const mailboxes = addressparser(raw.trim(), { flatten: true });
  const [mailbox] = mailboxes;
  if (mailboxes.length !== 1 || !mailbox) throw new Error('must be one address, e.g. "Acme <no-reply@acme.example>"');
  // A name that reads as another address is what spoofed mail looks like, to people and to spam filters.
  if (mailbox.name.includes("@")) throw new Error('must have a name without "@", e.g. "Acme <no-reply@acme.example>"');
  try {
    return { name: mailbox.name, address: normalizeEmailAddress(mailbox.address) };
  } catch {
    throw new Error('must be one valid address, e.g. "Acme <no-reply@acme.example>"');
  }
}
