// A minimal reader of the emails verifyd sends, for tests (no MIME parser is among the dependencies): the top-level
// headers, and the body of each text part (a single part, or those of a multipart/alternative), decoded from
// quoted-printable or base64. Header values are returned as sent: the tests' headers are plain ASCII.
export interface EmailMessage {
  /** By lower-case name, unfolded. */
  headers: Map<string, string>;
  /** Decoded bodies by content type: "text/plain", "text/html". */
  parts: Map<string, string>;
}

export function parseEmail(raw: string): EmailMessage {
  const { headers, body } = splitEntity(raw);
  const parts = new Map<string, string>();
  const type = headers.get("content-type") ?? "text/plain";
  const boundary = /boundary="?([^";]+)"?/i.exec(type)?.[1];
  const entities = boundary && type.toLowerCase().startsWith("multipart/") ? bodyParts(body, boundary) : [{ headers, body }];
  for (const entity of entities) {
    const contentType = (entity.headers.get("content-type") ?? "text/plain").split(";")[0]?.trim().toLowerCase() ?? "";
    parts.set(contentType, decode(entity.body, entity.headers.get("content-transfer-encoding") ?? "7bit"));
  }
  return { headers, parts };
}

function splitEntity(raw: string): { headers: Map<string, string>; body: string } {
  const end = raw.indexOf("\r\n\r\n");
  const head = end === -1 ? raw : raw.slice(0, end);
  const headers = new Map<string, string>();
  for (const line of head.replace(/\r\n[ \t]+/g, " ").split("\r\n")) {
    const colon = line.indexOf(":");
    if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  return { headers, body: end === -1 ? "" : raw.slice(end + 4) };
}

function bodyParts(body: string, boundary: string): { headers: Map<string, string>; body: string }[] {
  const sections = body.split(`--${boundary}`);
  // Before the first delimiter is the preamble; from "--" after the last one on, the epilogue.
  return sections
    .slice(1)
    .filter((section) => !section.startsWith("--"))
    .map((section) => splitEntity(section.replace(/^\r\n/, "").replace(/\r\n$/, "")));
}

function decode(body: string, encoding: string): string {
  switch (encoding.toLowerCase()) {
    case "base64":
      return Buffer.from(body.replace(/\s+/g, ""), "base64").toString("utf8");
    case "quoted-printable": {
      // Seven-bit text: "=XX" is a byte, "=" at a line's end a soft break, anything else itself.
      const text = body.replace(/=\r\n/g, "");
      const bytes: number[] = [];
      for (let i = 0; i < text.length; i++) {
        const hex = text.slice(i + 1, i + 3);
        if (text[i] === "=" && /^[0-9A-F]{2}$/i.test(hex)) {
          bytes.push(Number.parseInt(hex, 16));
          i += 2;
        } else {
          bytes.push(text.charCodeAt(i));
        }
      }
      return Buffer.from(bytes).toString("utf8");
    }
    default:
      return body;
  }
}
