// gRPC and gRPC-Web length-prefixed frames, written and read by hand so that tests check the wire format itself.

const trailerFlag = 0x80;

/** A frame: one flag byte, a 4-byte big-endian length, the payload. */
export function grpcFrame(payload: Uint8Array, flags = 0): Buffer {
  const frame = Buffer.alloc(5 + payload.length);
  frame.writeUInt8(flags, 0);
  frame.writeUInt32BE(payload.length, 1);
  Buffer.from(payload).copy(frame, 5);
  return frame;
}

export interface GrpcWebBody {
  messages: Buffer[];
  /** The trailer frame's fields, names lower-cased; undefined when the body has no trailer frame. */
  trailer: Record<string, string> | undefined;
}

/** Splits a gRPC-Web response body into its data frames and its trailer frame; throws on a truncated frame. */
export function parseGrpcWebBody(body: Buffer): GrpcWebBody {
  const messages: Buffer[] = [];
  let trailer: Record<string, string> | undefined;
  for (let offset = 0; offset < body.length; ) {
    if (offset + 5 > body.length) throw new Error(`truncated frame header at ${offset}`);
    const flags = body.readUInt8(offset);
    const length = body.readUInt32BE(offset + 1);
    const payload = body.subarray(offset + 5, offset + 5 + length);
    if (payload.length !== length) throw new Error(`frame at ${offset} promises ${length} bytes, has ${payload.length}`);
    if (flags & trailerFlag) trailer = parseTrailer(payload);
    else messages.push(payload);
    offset += 5 + length;
  }
  return { messages, trailer };
}

/** The names of a gRPC-Web body's trailer frame, as written. */
export function grpcWebTrailerNames(body: Buffer): string[] {
  const names: string[] = [];
  for (let offset = 0; offset + 5 <= body.length; ) {
    const length = body.readUInt32BE(offset + 1);
    if (body.readUInt8(offset) & trailerFlag) {
      for (const line of body.subarray(offset + 5, offset + 5 + length).toString("latin1").split("\r\n")) {
        const colon = line.indexOf(":");
        if (colon > 0) names.push(line.slice(0, colon));
      }
    }
    offset += 5 + length;
  }
  return names;
}

function parseTrailer(payload: Buffer): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const line of payload.toString("latin1").split("\r\n")) {
    const colon = line.indexOf(":");
    if (colon > 0) fields[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return fields;
}

/** Decodes base64 made of padded segments laid end to end, as gRPC-Web text bodies may be. */
export function decodePaddedBase64(text: string): Buffer {
  return Buffer.concat((text.match(/[^=]*=*/g) ?? []).map((segment) => Buffer.from(segment, "base64")));
}
