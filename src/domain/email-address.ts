// Email addresses: a practical syntax check (RFC 5321 lengths) and a canonical form whose domain is lower-case,
// since domains compare case-insensitively while local parts may not; and the mailbox an address names.
import { errors } from "./errors.js";

const localPart = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$/;
const domainLabel = /^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$/;

export function normalizeEmailAddress(input: string): string {
  const address = input.trim();
  const at = address.lastIndexOf("@");
  if (at <= 0 || address.length > 254) throw errors.emailInvalid();
  const local = address.slice(0, at);
  const domain = address.slice(at + 1).toLowerCase();
  const labels = domain.split(".");
  const valid =
    local.length <= 64 &&
    localPart.test(local) &&
    labels.length >= 2 &&
    labels.every((label) => domainLabel.test(label)) &&
    !/^[0-9]+$/.test(labels.at(-1) ?? "");
  if (!valid) throw errors.emailInvalid();
  return `${local}@${domain}`;
}

/**
 * The mailbox a canonical address names, which is what makes two addresses one: RFC 5321 lets a local part differ by
 * case, but mail servers deliver `Ada@` and `ada@` to one mailbox, and people type either. So an address is stored and
 * delivered to as given, while its uniqueness as a login name, a login by it and its send limits go by this form, as
 * ZITADEL's login names and OWASP's advice on user ids do. Local parts are ASCII here, so lower case is enough.
 */
export function mailboxOf(address: string): string {
  return address.toLowerCase();
}
