// Path templates of google.api.HttpRule (google/api/http.proto):
//
//   Template = "/" Segments [ Verb ] ;
//   Segments = Segment { "/" Segment } ;
//   Segment  = "*" | "**" | LITERAL | Variable ;
//   Variable = "{" FieldPath [ "=" Segments ] "}" ;
//   FieldPath = IDENT { "." IDENT } ;
//   Verb     = ":" LITERAL ;

export type TemplateSegment =
  | { kind: "literal"; value: string }
  /** `*`: exactly one path segment. */
  | { kind: "wildcard" }
  /** `**`: the rest of the path, zero or more segments. */
  | { kind: "deep-wildcard" };

/** A `{field.path=...}` variable; it captures `segments[start]` up to, not including, `segments[end]`. */
export interface TemplateVariable {
  fieldPath: string;
  start: number;
  end: number;
}

export interface PathTemplate {
  /** The template as written in the proto, for messages. */
  source: string;
  /** Variables flattened into the segments they capture. */
  segments: TemplateSegment[];
  variables: TemplateVariable[];
  verb: string | undefined;
}

/** Throws an Error naming the template if it does not follow the grammar. */
export function parsePathTemplate(source: string): PathTemplate {
  const segments: TemplateSegment[] = [];
  const variables: TemplateVariable[] = [];
  let pos = 0;

  const fail = (reason: string): never => {
    throw new Error(`invalid path template "${source}" at offset ${pos}: ${reason}`);
  };
  const expect = (char: string): void => {
    if (source[pos] !== char) fail(`expected "${char}"`);
    pos++;
  };
  const read = (pattern: RegExp): string => {
    const found = pattern.exec(source.slice(pos))?.[0] ?? "";
    pos += found.length;
    return found;
  };
  const readLiteral = (): string => {
    const literal = read(/^[^/{}=*:?#]+/);
    if (literal === "") fail("expected a literal");
    try {
      // Requests are compared decoded, so "%7E" in a template must equal "~" in a path.
      return decodeURIComponent(literal);
    } catch {
      return fail(`bad percent-encoding in "${literal}"`);
    }
  };

  const parseSegments = (insideVariable: boolean): void => {
    parseSegment(insideVariable);
    while (source[pos] === "/") {
      pos++;
      parseSegment(insideVariable);
    }
  };
  const parseSegment = (insideVariable: boolean): void => {
    if (source.startsWith("**", pos)) {
      pos += 2;
      segments.push({ kind: "deep-wildcard" });
    } else if (source[pos] === "*") {
      pos++;
      segments.push({ kind: "wildcard" });
    } else if (source[pos] === "{") {
      if (insideVariable) fail("variables cannot nest");
      parseVariable();
    } else {
      segments.push({ kind: "literal", value: readLiteral() });
    }
  };
  const parseVariable = (): void => {
    expect("{");
    const fieldPath = read(/^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*/);
    if (fieldPath === "") fail("expected a field path");
    if (variables.some((variable) => variable.fieldPath === fieldPath)) fail(`variable "${fieldPath}" appears twice`);
    const start = segments.length;
    if (source[pos] === "=") {
      pos++;
      parseSegments(true);
    } else {
      segments.push({ kind: "wildcard" });
    }
    expect("}");
    variables.push({ fieldPath, start, end: segments.length });
  };

  expect("/");
  parseSegments(false);
  let verb: string | undefined;
  if (source[pos] === ":") {
    pos++;
    verb = readLiteral();
  }
  if (pos < source.length) fail(`unexpected "${source[pos]}"`);
  const deepIndex = segments.findIndex((segment) => segment.kind === "deep-wildcard");
  if (deepIndex !== -1 && deepIndex !== segments.length - 1) fail(`"**" must be the last segment`);
  return { source, segments, variables, verb };
}

/**
 * A request path (without the query string, still percent-encoded), split and decoded once for all the templates a
 * lookup tries: a route table tries most of its routes before it finds the one a path belongs to.
 */
export class RequestPath {
  private readonly partsByVerb = new Map<string | undefined, string[] | undefined>();
  private readonly decodedParts = new Map<string | undefined, (string | undefined)[]>();

  constructor(readonly text: string) {}

  /** The path's segments once the verb's suffix (`:verb`) is cut off; undefined when it lacks that suffix. */
  parts(verb: string | undefined): string[] | undefined {
    if (this.partsByVerb.has(verb)) return this.partsByVerb.get(verb);
    let parts: string[] | undefined;
    if (this.text.startsWith("/")) {
      const segmentText = this.text.slice(1);
      const suffix = verb === undefined ? "" : `:${verb}`;
      if (segmentText.endsWith(suffix)) parts = segmentText.slice(0, segmentText.length - suffix.length).split("/");
    }
    this.partsByVerb.set(verb, parts);
    return parts;
  }

  /** The i-th segment, percent-decoded; undefined when its encoding is malformed. */
  decoded(verb: string | undefined, parts: readonly string[], index: number): string | undefined {
    let decoded = this.decodedParts.get(verb);
    if (!decoded) this.decodedParts.set(verb, (decoded = []));
    if (index in decoded) return decoded[index];
    const part = parts[index]!;
    // Most segments have nothing to decode, and decodeURIComponent costs more than the look for a `%`.
    if (!part.includes("%")) return (decoded[index] = part);
    try {
      decoded[index] = decodeURIComponent(part);
    } catch {
      decoded[index] = undefined;
    }
    return decoded[index];
  }
}

/** Whether a path of `count` segments can match the template: as many as it has, or at least its fixed ones before `**`. */
export function fitsSegmentCount({ segments }: PathTemplate, count: number): boolean {
  return segments.at(-1)?.kind === "deep-wildcard" ? count >= segments.length - 1 : count === segments.length;
}

/** How many segments a path (starting with "/", the verb's suffix inside its last segment) has. */
export function segmentCountOf(path: string): number {
  let count = 0;
  for (let slash = path.indexOf("/"); slash !== -1; slash = path.indexOf("/", slash + 1)) count++;
  return count;
}

/** The template's variable bindings if the path matches it; a path with malformed percent-encoding matches nothing. */
export function matchPathTemplate(template: PathTemplate, path: RequestPath): Map<string, string> | undefined {
  const parts = path.parts(template.verb);
  if (parts === undefined) return undefined;
  const { segments } = template;
  const endsDeep = segments.at(-1)?.kind === "deep-wildcard";
  const fixedCount = endsDeep ? segments.length - 1 : segments.length;
  if (!fitsSegmentCount(template, parts.length)) return undefined;

  for (let i = 0; i < fixedCount; i++) {
    const segment = segments[i]!;
    if (segment.kind === "literal" ? path.decoded(template.verb, parts, i) !== segment.value : parts[i] === "") return undefined;
  }
  const bindings = new Map<string, string>();
  for (const variable of template.variables) {
    const capturesRest = endsDeep && variable.end === segments.length;
    const singleSegment = !capturesRest && variable.end - variable.start === 1;
    const value = singleSegment
      ? path.decoded(template.verb, parts, variable.start)
      : decodeKeepingSlashes(parts.slice(variable.start, capturesRest ? parts.length : variable.end).join("/"));
    if (value === undefined) return undefined;
    bindings.set(variable.fieldPath, value);
  }
  return bindings;
}

/**
 * http.proto: a multi-segment variable is decoded except for "%2F", so an encoded slash stays distinguishable;
 * undefined when the encoding is malformed.
 */
function decodeKeepingSlashes(text: string): string | undefined {
  try {
    return text
      .split(/(%2F)/i)
      .map((piece, index) => (index % 2 === 1 ? piece : decodeURIComponent(piece)))
      .join("");
  } catch {
    return undefined;
  }
}
