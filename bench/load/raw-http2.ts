// A lean HTTP/2 client for the load generator: frames written and read by hand on a plain TCP socket, the request's
// header block encoded once per phase (HPACK literals, no Huffman), the answer's decoded with hpack.js. Node's own
// HTTP/2 client was the generator's first transport, but each of its calls leaves objects that live past young
// collections and are promoted (about 5 KB per call), so its scavenges took 10–16 ms and held every call in flight
// for as long: against a server that answers at once, its p99 at 2,000 calls/s was 13–20 ms, above the issue's
// 10 ms goal before any server work. See the README's "What runs" (the load generator).
import { type Socket, connect } from "node:net";
import hpack from "hpack.js";

/** What a call gets back: the response's headers, its trailers (HTTP/2's second HEADERS frame) and its body. */
export interface RawResponse {
  headers: Record<string, string>;
  trailers: Record<string, string>;
  body: Buffer;
}

const frameHeaderBytes = 9;
const type = { data: 0x0, headers: 0x1, rstStream: 0x3, settings: 0x4, ping: 0x6, goaway: 0x7, windowUpdate: 0x8, continuation: 0x9 } as const;
const flag = { endStream: 0x1, ack: 0x1, endHeaders: 0x4, padded: 0x8, priority: 0x20 } as const;
const settingsInitialWindowSize = 0x4;
const settingsMaxConcurrentStreams = 0x3;
/** Our receive windows are opened this wide, and topped up when half is used, so a server never waits for us. */
const receiveWindow = 0x7fffffff;
/** HTTP/2's default SETTINGS_MAX_FRAME_SIZE, which every server accepts; the bench's calls are far smaller. */
const maxFrameBytes = 16_384;
const preface = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "latin1");

function frame(frameType: number, flags: number, streamId: number, payload: Buffer): Buffer {
  const out = Buffer.allocUnsafe(frameHeaderBytes + payload.length);
  out.writeUIntBE(payload.length, 0, 3);
  out[3] = frameType;
  out[4] = flags;
  out.writeUInt32BE(streamId & 0x7fffffff, 5);
  payload.copy(out, frameHeaderBytes);
  return out;
}

function u32(value: number): Buffer {
  const out = Buffer.allocUnsafe(4);
  out.writeUInt32BE(value);
  return out;
}

/** HPACK's integer with an N-bit prefix (RFC 7541 §5.1). */
function hpackInteger(value: number, prefixBits: number, firstByte: number): number[] {
  const max = (1 << prefixBits) - 1;
  if (value < max) return [firstByte | value];
  const bytes = [firstByte | max];
  let rest = value - max;
  while (rest >= 128) {
    bytes.push((rest % 128) + 128);
    rest = Math.floor(rest / 128);
  }
  bytes.push(rest);
  return bytes;
}

/** A header block of literals without indexing and with new names (RFC 7541 §6.2.2): no table state to share. */
export function encodeHeaderBlock(headers: Record<string, string>): Buffer {
  const bytes: number[] = [];
  for (const [name, value] of Object.entries(headers)) {
    const nameBytes = Buffer.from(name, "latin1");
    const valueBytes = Buffer.from(value, "latin1");
    bytes.push(0x00, ...hpackInteger(nameBytes.length, 7, 0), ...nameBytes, ...hpackInteger(valueBytes.length, 7, 0), ...valueBytes);
  }
  return Buffer.from(bytes);
}

interface PendingCall {
  headers?: Record<string, string>;
  trailers?: Record<string, string>;
  chunks: Buffer[];
  resolve(response: RawResponse): void;
  reject(error: Error): void;
}

/** One HTTP/2 connection; calls are sent as they come, up to the server's limit of concurrent streams, the rest wait. */
export class RawHttp2Connection {
  private readonly socket: Socket;
  private readonly decompressor = hpack.decompressor.create({ table: { size: 4096 } });
  private readonly calls = new Map<number, PendingCall>();
  private readonly waiting: { headerBlock: Buffer; body: Buffer; call: PendingCall }[] = [];
  private nextStreamId = 1;
  private received: Buffer = Buffer.alloc(0);
  /** The header block being continued (HEADERS without END_HEADERS), and its stream. */
  private continued?: { streamId: number; endStream: boolean; parts: Buffer[] };
  private sendWindow = 65_535;
  private streamSendWindow = 65_535;
  private maxConcurrent = 100;
  private unacknowledgedBytes = 0;
  private failure?: Error;

  constructor(host: string, port: number) {
    this.socket = connect({ host, port, noDelay: true });
    this.socket.on("data", (chunk: Buffer) => this.onData(chunk));
    this.socket.on("error", (error) => this.fail(error));
    this.socket.on("close", () => this.fail(new Error("connection closed")));
    const settings = Buffer.concat([Buffer.from([0, settingsInitialWindowSize]), u32(receiveWindow)]);
    this.socket.write(
      Buffer.concat([preface, frame(type.settings, 0, 0, settings), frame(type.windowUpdate, 0, 0, u32(receiveWindow - 65_535))]),
    );
  }

  request(headerBlock: Buffer, body: Buffer): Promise<RawResponse> {
    return new Promise((resolve, reject) => {
      if (this.failure) return reject(this.failure);
      if (body.length > maxFrameBytes || headerBlock.length > maxFrameBytes) return reject(new Error("a call larger than one frame"));
      const call: PendingCall = { chunks: [], resolve, reject };
      if (this.waiting.length === 0 && this.canSend(body)) this.send(headerBlock, body, call);
      else this.waiting.push({ headerBlock, body, call });
    });
  }

  close(): void {
    this.socket.end(frame(type.goaway, 0, 0, Buffer.concat([u32(0), u32(0)])));
  }

  private send(headerBlock: Buffer, body: Buffer, call: PendingCall): void {
    const streamId = this.nextStreamId;
    this.nextStreamId += 2;
    this.calls.set(streamId, call);
    this.sendWindow -= body.length;
    this.socket.write(
      Buffer.concat([
        frame(type.headers, flag.endHeaders, streamId, headerBlock),
        frame(type.data, flag.endStream, streamId, body),
      ]),
    );
  }

  private sendWaiting(): void {
    while (this.waiting.length > 0 && this.canSend(this.waiting[0]!.body)) {
      const next = this.waiting.shift()!;
      this.send(next.headerBlock, next.body, next.call);
    }
  }

  /** Within the server's limit of concurrent streams, and its windows (a body is sent whole, in one DATA frame). */
  private canSend(body: Buffer): boolean {
    return this.calls.size < this.maxConcurrent && body.length <= this.sendWindow && body.length <= this.streamSendWindow;
  }

  private onData(chunk: Buffer): void {
    this.received = this.received.length === 0 ? chunk : Buffer.concat([this.received, chunk]);
    let offset = 0;
    while (this.received.length - offset >= frameHeaderBytes) {
      const length = this.received.readUIntBE(offset, 3);
      if (this.received.length - offset < frameHeaderBytes + length) break;
      const frameType = this.received[offset + 3]!;
      const flags = this.received[offset + 4]!;
      const streamId = this.received.readUInt32BE(offset + 5) & 0x7fffffff;
      const payload = this.received.subarray(offset + frameHeaderBytes, offset + frameHeaderBytes + length);
      offset += frameHeaderBytes + length;
      this.onFrame(frameType, flags, streamId, payload);
    }
    this.received = offset === this.received.length ? Buffer.alloc(0) : this.received.subarray(offset);
    this.sendWaiting();
  }

  private onFrame(frameType: number, flags: number, streamId: number, payload: Buffer): void {
    switch (frameType) {
      case type.settings:
        if (flags & flag.ack) return;
        for (let at = 0; at + 6 <= payload.length; at += 6) {
          const id = payload.readUInt16BE(at);
          const value = payload.readUInt32BE(at + 2);
          if (id === settingsMaxConcurrentStreams) this.maxConcurrent = value;
          if (id === settingsInitialWindowSize) this.streamSendWindow = value;
        }
        this.socket.write(frame(type.settings, flag.ack, 0, Buffer.alloc(0)));
        return;
      case type.ping:
        if (!(flags & flag.ack)) this.socket.write(frame(type.ping, flag.ack, 0, payload));
        return;
      case type.windowUpdate:
        if (streamId === 0) this.sendWindow += payload.readUInt32BE(0) & 0x7fffffff;
        return;
      case type.goaway:
        this.fail(new Error(`GOAWAY with error code ${payload.readUInt32BE(4)}`));
        return;
      case type.rstStream:
        this.settle(streamId, new Error(`stream reset with code ${payload.readUInt32BE(0)}`));
        return;
      case type.data:
        this.onDataFrame(flags, streamId, payload);
        return;
      case type.headers:
        this.startHeaderBlock(flags, streamId, payload);
        return;
      case type.continuation:
        this.continued?.parts.push(payload);
        if (flags & flag.endHeaders) this.endHeaderBlock();
        return;
    }
  }

  private onDataFrame(flags: number, streamId: number, payload: Buffer): void {
    this.acknowledge(payload.length);
    const call = this.calls.get(streamId);
    if (!call) return;
    call.chunks.push(unpadded(flags, payload));
    if (flags & flag.endStream) this.settle(streamId);
  }

  private startHeaderBlock(flags: number, streamId: number, payload: Buffer): void {
    let block = unpadded(flags, payload);
    if (flags & flag.priority) block = block.subarray(5);
    this.continued = { streamId, endStream: (flags & flag.endStream) !== 0, parts: [block] };
    if (flags & flag.endHeaders) this.endHeaderBlock();
  }

  private endHeaderBlock(): void {
    const { streamId, endStream, parts } = this.continued!;
    this.continued = undefined;
    // Decoded even for a stream we no longer track: the table is the connection's.
    const fields = this.decode(parts.length === 1 ? parts[0]! : Buffer.concat(parts));
    const call = this.calls.get(streamId);
    if (!call) return;
    if (call.headers === undefined) call.headers = fields;
    else call.trailers = fields;
    if (endStream) this.settle(streamId);
  }

  private decode(block: Buffer): Record<string, string> {
    this.decompressor.write(block);
    this.decompressor.execute();
    const fields: Record<string, string> = {};
    for (let field = this.decompressor.read(); field !== null; field = this.decompressor.read()) {
      const existing = fields[field.name];
      fields[field.name] = existing === undefined ? field.value : `${existing}, ${field.value}`;
    }
    return fields;
  }

  private settle(streamId: number, error?: Error): void {
    const call = this.calls.get(streamId);
    if (!call) return;
    this.calls.delete(streamId);
    if (error) call.reject(error);
    else call.resolve({ headers: call.headers ?? {}, trailers: call.trailers ?? {}, body: Buffer.concat(call.chunks) });
  }

  /** Tops the connection's receive window up once half of it is used. */
  private acknowledge(bytes: number): void {
    this.unacknowledgedBytes += bytes;
    if (this.unacknowledgedBytes < receiveWindow / 2) return;
    this.socket.write(frame(type.windowUpdate, 0, 0, u32(this.unacknowledgedBytes)));
    this.unacknowledgedBytes = 0;
  }

  private fail(error: Error): void {
    if (this.failure) return;
    this.failure = error;
    for (const call of this.calls.values()) call.reject(error);
    this.calls.clear();
    for (const { call } of this.waiting.splice(0)) call.reject(error);
    this.socket.destroy();
  }
}

function unpadded(flags: number, payload: Buffer): Buffer {
  if (!(flags & flag.padded)) return payload;
  const padding = payload[0]!;
  return payload.subarray(1, payload.length - padding);
}
