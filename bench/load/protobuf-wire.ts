// Just enough of the protobuf wire format to write the two requests by hand: length-delimited fields (strings and
// nested messages), so the load generator spends next to nothing on encoding.

export function stringField(field: number, value: string): Buffer {
  return lengthDelimited(field, Buffer.from(value, "utf8"));
}

export function messageField(field: number, ...fields: Buffer[]): Buffer {
  return lengthDelimited(field, Buffer.concat(fields));
}

function lengthDelimited(field: number, content: Buffer): Buffer {
  // Wire type 2: length-delimited.
  return Buffer.concat([varint((field << 3) | 2), varint(content.length), content]);
}

function varint(value: number): Buffer {
  const bytes: number[] = [];
  let rest = value;
  while (rest >= 0x80) {
    bytes.push((rest & 0x7f) | 0x80);
    rest >>>= 7;
  }
  bytes.push(rest);
  return Buffer.from(bytes);
}
