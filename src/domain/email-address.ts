// Email addresses: a practical syntax check (RFC 5321 lengths) and a canonical form whose domain is lower-case,
// since domains compare case-insensitively while local parts may not.
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
