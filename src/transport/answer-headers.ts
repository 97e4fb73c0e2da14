// An answer's headers as a plain record, the form Node's `writeHead` takes, for answers built outside connect-es:
// a fetch API `Headers` object per answer (its WebIDL checks on every call) cost about 1.6 µs in a microbenchmark,
// on every REST answer (README, performance, step 33).

/** Names in lower case, as a `Headers` object gives them; Set-Cookie's values kept apart, each its own header line. */
export type AnswerHeaders = Record<string, string | string[]>;

/** As `Headers.append`: a repeated name's values joined by ", ", except Set-Cookie's. */
export function appendAnswerHeader(headers: AnswerHeaders, name: string, value: string): void {
  const existing = headers[name];
  if (existing === undefined) headers[name] = name === "set-cookie" ? [value] : value;
  else if (Array.isArray(existing)) existing.push(value);
  else headers[name] = `${existing}, ${value}`;
}

/** A `Headers` object's entries as a record. */
export function answerHeadersOf(headers: Headers): AnswerHeaders {
  const record: AnswerHeaders = {};
  headers.forEach((value, name) => {
    record[name] = name === "set-cookie" ? headers.getSetCookie() : value;
  });
  return record;
}
