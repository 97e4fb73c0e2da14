// What a log line may show. The logger runs every line through here on its way out (fields at any depth, and the
// message), so that no call site can leak a secret by the name it gives a field or by a text it quotes (an error
// message, a vendor's answer, a URL). Two kinds of rule:
// - by field name: secrets (passwords, tokens, keys, codes, authorization headers, message bodies, which quote the
//   code) are replaced whatever they hold; contacts (phone, email, destination, login name, …) are masked when they
//   hold a phone number or an email address;
// - in every text: a number in international format, an email address, credentials in a URL, an Authorization
//   value, a webhook secret and secret-looking query parameters are masked or removed wherever they appear.
// Numbers without their "+" are masked only under a contact's field name: in free text they cannot be told from ids.

const redacted = "[redacted]";

/**
 * Field names, lower case without separators, whose value is a secret whatever it looks like. A bare `code` is
 * exempt: it names status and error codes throughout (gRPC codes, SQLITE_FULL, ECONNRESET); a verification code's
 * field says which code it is (`verificationCode`, `phoneCode`, `returnCode`, `otp`).
 */
const secretName =
  /(?:pass(?:word|wd|phrase)|secret|tokens?|keys?|authorization|cookie|credentials?|signature|hmac|otp|(?:verification|phone|email|sms|returned|return|reset|test|login|onetime)codes?)$/;

/** A message's contents: they quote its code. */
const contentNames = new Set(["text", "html", "body", "subject"]);

/** Fields that hold a phone number or an email address, or a login name or recipient that may be either. */
const contactName = /(?:phone|phonenumber|msisdn|email|emailaddress|destination|recipient|loginname|username)$/;
const exactContactNames = new Set(["to", "login", "contact"]);

type Rule = "secret" | "contact" | "text";

// Lines name the same few fields again and again (every access line names nine), so each name's rule is worked out
// once. Bounded, since names logged at debug (a request's headers) come from clients.
const rulesByName = new Map<string, Rule>();
const maxRememberedNames = 1024;

function ruleFor(key: string): Rule {
  const remembered = rulesByName.get(key);
  if (remembered !== undefined) return remembered;
  const rule = ruleForName(key.toLowerCase().replace(/[^a-z0-9]/g, ""));
  if (rulesByName.size < maxRememberedNames) rulesByName.set(key, rule);
  return rule;
}

function ruleForName(name: string): Rule {
  if (secretName.test(name) || contentNames.has(name)) return "secret";
  if (contactName.test(name) || exactContactNames.has(name)) return "contact";
  return "text";
}

// The fullwidth plus and digits of other scripts too: a login name or a Kii path typed in them is read as the number.
const internationalPrefix = /^\s*(?:[+＋]|%2b)/i;

// The shortest numbers in use have 7 digits with their country code; fewer after a "+" are no phone number.
const minPhoneDigits = 7;

function digitsOf(number: string): string {
  return number.replace(internationalPrefix, "").replace(/\P{Nd}/gu, "");
}

/** `+41791234567` → `+******67`: the last two digits only; the length is hidden. */
export function maskPhone(number: string): string {
  const international = internationalPrefix.test(number);
  const digits = digitsOf(number);
  if (digits.length < 6) return "******";
  return `${international ? "+" : ""}******${digits.slice(-2)}`;
}

/** `ada.lovelace@example.com` → `a***@example.com`. */
export function maskEmail(address: string): string {
  const at = address.lastIndexOf("@");
  return at <= 0 ? redacted : `${address[0]}***${address.slice(at)}`;
}

// Each pattern with its replacement, applied in this order (credentials in a URL before the address-like user@host).
// Every pattern takes time linear in the text's length, whatever a client puts in it (a login name of 64 KiB is
// logged): a run of characters that a pattern repeats is tried from its start only (the lookbehinds), and a run that
// can begin anywhere is bounded. Unanchored, `[A-Za-z0-9._%+-]+@` tried every position of such a run again, and 64 KiB
// of letters held the event loop for seconds.
const textRules: [RegExp, (match: string, ...groups: string[]) => string][] = [
  // scheme://user:password@host
  [/(?<![a-z0-9+.-])([a-z][a-z0-9+.-]*:\/\/)[^\s/?#@]+@/gi, (_match, scheme) => `${scheme}${redacted}@`],
  // An Authorization value quoted in a text; 16 characters at least, so that "Basic authentication" stays.
  [/\b(bearer|basic|digest)\s+[A-Za-z0-9\-._~+/]{16,}=*/gi, (_match, scheme) => `${scheme} ${redacted}`],
  // A shorter Basic value is a credential when it decodes to user:password ("Basic dXNlcjpwYXNz").
  [/\b(basic)\s+([A-Za-z0-9+/]{4,}={0,2})(?![A-Za-z0-9+/=])/gi, (match, scheme, value) =>
    Buffer.from(value, "base64").toString("latin1").includes(":") ? `${scheme} ${redacted}` : match],
  [/\bwhsec_[A-Za-z0-9+/=]+/g, () => `whsec_${redacted}`],
  // A parameter's name is short: bounded, so that a text of many `;` is not tried from each to its end.
  [/([?&;][^=&\s#?]{0,64}?(?:token|key|secret|passw|code|sig|auth)[^=&\s#]{0,64}=)[^&\s#"']*/gi, (_match, name) => `${name}${redacted}`],
  // Also percent-encoded in a path ("EMAIL:ada%40example.com").
  [/(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]+(?:@|%40)[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+/gi, (match) => maskEmail(match.replace(/%40/i, "@"))],
  // The parameters drizzle quotes in a failed query's message: token hashes, states, sealed messages, numbers.
  [/^params: .*$/gm, () => `params: ${redacted}`],
  // E.164 as stored, as typed ("+41 (0)79 123 45 67") and percent-encoded in a path ("%2B41791234567").
  [/(?:[+＋]|%2b)\p{Nd}(?:[ .\/-]?\(\p{Nd}{1,4}\)|[ .\/-]?\p{Nd})+/giu, (match) => (digitsOf(match).length >= minPhoneDigits ? maskPhone(match) : match)],
];

// Every rule above needs one of these to match; most texts of a line (ids, names of RPCs, codes) have none, and are
// let through after this one pass instead of one per rule. Kept in step with the rules by the redaction tests.
const mayNeedRedaction = /[@%+＋:?&;]|whsec_|bearer|basic|digest/i;

/** `text` with every secret and contact in it masked or removed. */
export function redactText(text: string): string {
  if (!mayNeedRedaction.test(text)) return text;
  return textRules.reduce((result, [pattern, replace]) => result.replace(pattern, replace), text);
}

function maskContact(value: string): string {
  const phoneLike = /^[\s\p{Nd}+＋().\/-]+$/u.test(value) && digitsOf(value).length >= 6;
  return phoneLike ? maskPhone(value) : redactText(value);
}

// Deep enough for any structure a call site logs; deeper or circular structures are cut off rather than walked.
const maxDepth = 8;

/** A copy of a line's fields that is safe to write: the rules above applied at every depth. */
export function redactFields(fields: Record<string, unknown>): Record<string, unknown> {
  // Most lines hold only strings and numbers (every access line does): the set of objects seen is made for the
  // first object, not per line.
  const result: Record<string, unknown> = {};
  let seen: WeakSet<object> | undefined;
  for (const key of Object.keys(fields)) {
    const value = fields[key];
    const isObject = typeof value === "object" && value !== null;
    result[key] = redactEntry(key, value, 0, isObject ? (seen ??= new WeakSet()) : nothingSeen);
  }
  return result;
}

/** Passed along with a primitive value, which never adds to the set. */
const nothingSeen = new WeakSet<object>();

function redactEntries(entries: [string, unknown][], depth: number, seen: WeakSet<object>): Record<string, unknown> {
  const result: Record<string, unknown> = {};
  for (const [key, value] of entries) result[key] = redactEntry(key, value, depth, seen);
  return result;
}

function redactEntry(key: string, value: unknown, depth: number, seen: WeakSet<object>): unknown {
  const rule = ruleFor(key);
  if (rule === "secret") return value === undefined || value === null || value === "" ? value : redacted;
  if (rule === "contact" && (typeof value === "string" || typeof value === "number")) return maskContact(String(value));
  return redactValue(value, depth, seen);
}

function redactValue(value: unknown, depth: number, seen: WeakSet<object>): unknown {
  if (typeof value === "string") return redactText(value);
  if (typeof value !== "object" || value === null || value instanceof Date) return value;
  if (depth >= maxDepth) return "[too deep]";
  if (seen.has(value)) return "[circular]";
  seen.add(value);
  if (value instanceof Uint8Array) return `[${value.byteLength} bytes]`;
  if (Array.isArray(value)) return value.map((item) => redactValue(item, depth + 1, seen));
  if (value instanceof Error) return redactEntries(errorEntries(value), depth + 1, seen);
  if (value instanceof Headers || value instanceof Map) return redactEntries([...value.entries()].map(stringKey), depth + 1, seen);
  return redactEntries(Object.entries(value), depth + 1, seen);
}

/** Errors keep their name, message, stack, code and cause; JSON would show none of these. */
function errorEntries(error: Error): [string, unknown][] {
  const { code } = error as { code?: unknown };
  return [
    ["name", error.name],
    ["message", error.message],
    ["stack", error.stack],
    ...(code === undefined ? [] : ([["code", code]] as [string, unknown][])),
    ...(error.cause === undefined ? [] : ([["cause", error.cause]] as [string, unknown][])),
  ];
}

function stringKey([key, value]: [unknown, unknown]): [string, unknown] {
  return [String(key), value];
}
