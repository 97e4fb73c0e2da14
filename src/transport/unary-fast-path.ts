// Unary calls in binary protobuf or JSON over gRPC, gRPC-Web and Connect, without connect-es's streaming pipeline.
// connect-es serves every gRPC and gRPC-Web call as a stream (a chain of async iterables per call) and aborts an abort
// controller after every call of any protocol (Node builds a DOMException with a stack for each): in `npm run bench --
// --profile` that made a gRPC call cost about 40% more server CPU than the same call over Connect, and every protocol
// paid for the aborts. Here a well-formed call (one uncompressed message of at most readMaxBytes) is read into one
// buffer, decoded, run through the same interceptors (unary-call.ts), and answered with the status trailers connect-es
// writes (grpc-status-trailer.ts), connect-es's own error JSON and its envelopes. JSON is read as REST reads it
// (json-message.ts), so an unknown enum name is refused here as there; a compressed message is decompressed first.
// Anything else (GET, a malformed message or one that does not decompress, a bad timeout header, more than one
// message, gRPC-Web's text mode) goes to connect-es's handler with the bytes read so far, so every edge keeps
// connect-es's answer.
import { type DescMessage, type MessageShape, fromBinary, toBinary, toJsonString } from "@bufbuild/protobuf";
import {
  Code,
  ConnectError,
  type ContextValues,
} from "@connectrpc/connect";
import {
  type Compression,
  compressionNegotiate,
  encodeEnvelope,
  envelopeCompress,
} from "@connectrpc/connect/protocol";
import * as connect from "@connectrpc/connect/protocol-connect";
import * as grpc from "@connectrpc/connect/protocol-grpc";
import * as grpcWeb from "@connectrpc/connect/protocol-grpc-web";
import { codeName } from "../api/code-names.js";
import { internalError } from "../api/connect-errors.js";
import { requestContextKey } from "../api/request-context.js";
import { callOf, noteCall } from "../call-scope.js";
import type { Logger } from "../logger.js";
import type { NodeRequest, NodeResponse } from "./call-context.js";
import { nodeHeaders } from "./call-context.js";
import { withErrorStatus } from "./grpc-status-trailer.js";
import { RefusedJsonName, readJsonMessage } from "./json-message.js";
import { keptForFrozen } from "./kept-for-frozen.js";
import { UnaryCall, type UnaryInvoker, type UnaryMethodSpec } from "./unary-call.js";

/** A unary method and its interceptor chain, built once. */
export interface UnaryMethod {
  spec: UnaryMethodSpec;
  invoke: UnaryInvoker;
}

export interface UnaryFastPathOptions {
  readMaxBytes: number;
  acceptCompression: Compression[];
  /** Where an answer that cannot be encoded is reported. */
  logger: Pick<Logger, "error">;
}

/** connect-es's default: smaller answers are not worth compressing. */
const compressMinBytes = 1024;
const envelopeHeaderBytes = 5;

type Outcome = { output: Uint8Array } | { error: ConnectError };

/** How the message is written: binary protobuf, or proto3 JSON. */
interface Codec {
  /** Undefined when the body is not a message this path reads; throws a ConnectError for one it refuses. */
  decode(desc: DescMessage, bytes: Uint8Array): MessageShape<DescMessage> | undefined;
  encode(desc: DescMessage, message: MessageShape<DescMessage>): Uint8Array;
}

const binaryCodec: Codec = {
  decode(desc, bytes) {
    try {
      return fromBinary(desc, bytes);
    } catch {
      return undefined;
    }
  },
  encode: (desc, message) => toBinary(desc, message),
};

const utf8 = new TextDecoder("utf-8", { fatal: true });

const jsonCodec: Codec = {
  decode(desc, bytes) {
    try {
      return readJsonMessage(desc, utf8.decode(bytes));
    } catch (error) {
      if (error instanceof RefusedJsonName) throw new ConnectError(error.message, Code.InvalidArgument);
      return undefined;
    }
  },
  encode: (desc, message) => Buffer.from(toJsonString(desc, message)),
};

/** What differs between the three protocols: how the message is framed, and how the answer and its status are sent. */
interface Wire {
  protocolName: "grpc" | "grpc-web" | "connect";
  codec: Codec;
  /** gRPC and gRPC-Web frame the message with a 5-byte header; Connect's unary body is the message itself. */
  enveloped: boolean;
  timeout(req: NodeRequest): { timeoutMs?: number; error?: ConnectError };
  /** The request's compression header and the one listing what the client accepts, as Node names them. */
  encodingHeaders: [string, string];
  acceptEncodingHeaderName: string;
  responseHeader: Record<string, string>;
  responseTrailer: Record<string, string>;
  answer(res: NodeResponse, call: UnaryCall, outcome: Outcome, compression: Compression | null): Promise<void>;
}

const grpcWire: Wire = {
  protocolName: "grpc",
  codec: binaryCodec,
  enveloped: true,
  timeout: (req) => grpc.parseTimeout(headerValue(req.headers["grpc-timeout"]), Number.MAX_SAFE_INTEGER),
  encodingHeaders: ["grpc-encoding", "grpc-accept-encoding"],
  acceptEncodingHeaderName: grpc.headerAcceptEncoding,
  responseHeader: { [grpc.headerContentType]: grpc.contentTypeProto },
  responseTrailer: { [grpc.headerGrpcStatus]: grpc.grpcStatusOk },
  async answer(res, call, outcome, compression) {
    const body = "output" in outcome ? await envelope(0, outcome.output, compression) : undefined;
    res.writeHead(200, call.responseHeaderRecord());
    if (body) res.write(body);
    res.addTrailers(trailerOf(call, outcome));
    res.end();
  },
};

const grpcWebWire: Wire = {
  ...grpcWire,
  protocolName: "grpc-web",
  responseHeader: { [grpcWeb.headerContentType]: grpcWeb.contentTypeProto },
  async answer(res, call, outcome, compression) {
    const message = "output" in outcome ? await envelope(0, outcome.output, compression) : new Uint8Array(0);
    // gRPC-Web's trailers travel in the body, as a last frame of their own, one `name: value` line each, the names in
    // lower case as the protocol asks (connect-es's names are capitalised; Google's grpc-web client looks up
    // "grpc-status" as written, and would take an error for a success).
    const lines = Object.entries(trailerOf(call, outcome)).map(([name, value]) => `${name.toLowerCase()}: ${value}\r\n`);
    const trailer = await envelope(grpcWeb.trailerFlag, Buffer.from(lines.join("")), compression);
    res.writeHead(200, call.responseHeaderRecord());
    res.end(Buffer.concat([message, trailer]));
  },
};

/** Connect's error body, kept for a refusal's repeats as its gRPC status and REST body are. */
const connectErrorJson = keptForFrozen((error) => connect.errorToJsonBytes(error, undefined));

const connectWire: Wire = {
  protocolName: "connect",
  codec: binaryCodec,
  enveloped: false,
  timeout: (req) => connect.parseTimeout(headerValue(req.headers["connect-timeout-ms"]), Number.MAX_SAFE_INTEGER),
  encodingHeaders: ["content-encoding", "accept-encoding"],
  acceptEncodingHeaderName: connect.headerUnaryAcceptEncoding,
  responseHeader: { [connect.headerContentType]: connect.contentTypeUnaryProto },
  responseTrailer: {},
  async answer(res, call, outcome, compression) {
    let status = 200;
    let body: Uint8Array;
    if ("output" in outcome) {
      body = outcome.output;
    } else {
      // As connect-es answers a unary error: the HTTP status of the code, the error's metadata as headers, JSON.
      status = connect.codeToHttpStatus(outcome.error.code);
      call.responseHeader.set(connect.headerContentType, connect.contentTypeUnaryJson);
      outcome.error.metadata.forEach((value, key) => call.responseHeader.set(key, value));
      body = connectErrorJson(outcome.error);
    }
    if (compression && body.byteLength >= compressMinBytes) {
      body = await compression.compress(body);
      call.responseHeader.set(connect.headerUnaryEncoding, compression.name);
    }
    // Connect's unary trailers travel as headers with a prefix.
    const header = call.responseHeaderRecord();
    for (const [name, value] of Object.entries(call.responseTrailerRecord())) header[`trailer-${name}`] = value;
    header[connect.headerUnaryContentLength] = String(body.byteLength);
    res.writeHead(status, header);
    res.end(body);
  },
};

/** The same protocol with JSON messages, labelled with the content type the request had. */
function withJson(wire: Wire, contentType: string): Wire {
  return { ...wire, codec: jsonCodec, responseHeader: { [connect.headerContentType]: contentType } };
}

const grpcJsonWire = withJson(grpcWire, grpc.contentTypeJson);
const grpcWebJsonWire = withJson(grpcWebWire, grpcWeb.contentTypeJson);
const connectJsonWire = withJson(connectWire, connect.contentTypeUnaryJson);

/** gRPC's and gRPC-Web's trailers: the call's own, and the status of its error if it failed. */
function trailerOf(call: UnaryCall, outcome: Outcome): Record<string, string> {
  const trailer = call.responseTrailerRecord();
  return "error" in outcome ? withErrorStatus(trailer, outcome.error) : trailer;
}

function wireOf(req: NodeRequest): Wire | undefined {
  if (req.method !== "POST") return undefined;
  switch (req.headers["content-type"]) {
    case "application/grpc":
    case "application/grpc+proto":
      // gRPC needs HTTP/2's trailers.
      return req.httpVersionMajor === 2 ? grpcWire : undefined;
    case "application/grpc+json":
      return req.httpVersionMajor === 2 ? grpcJsonWire : undefined;
    case "application/grpc-web":
    case "application/grpc-web+proto":
      return grpcWebWire;
    case "application/grpc-web+json":
      return grpcWebJsonWire;
    case "application/proto":
      return connectWire;
    case "application/json":
    case "application/json; charset=utf-8":
      return connectJsonWire;
    default:
      return undefined;
  }
}

/**
 * Serves the call and returns true, or returns false having read nothing when the call is not one for this path. When
 * the body turns out not to be one plain message, `handOver` gets the bytes read so far, and the rest of the body is
 * still unread on the request.
 */
export function serveUnary(
  method: UnaryMethod,
  req: NodeRequest,
  res: NodeResponse,
  contextValues: ContextValues,
  options: UnaryFastPathOptions,
  handOver: (alreadyRead: Buffer[]) => void,
): boolean {
  const wire = wireOf(req);
  if (!wire) return false;
  const timeout = wire.timeout(req);
  const [encodingHeader, acceptEncodingHeader] = wire.encodingHeaders;
  const compression = compressionNegotiate(
    options.acceptCompression,
    headerValue(req.headers[encodingHeader]),
    headerValue(req.headers[acceptEncodingHeader]),
    wire.acceptEncodingHeaderName,
  );
  // A bad timeout or encoding: connect-es's to refuse.
  if (timeout.error || compression.error) return false;

  const chunks: Buffer[] = [];
  let length = 0;
  // The whole body's length: an envelope's once its header is in; Connect's is known only at its end.
  let expected: number | undefined;
  // Connect's body is compressed as a whole, with its Content-Encoding; an envelope says so in its flags.
  let compressed = !wire.enveloped && compression.request !== null;
  // A request envelope's flags are 0, or 1 for a compressed message. connect-es read the others (gRPC-Web's trailers
  // flag 0x80, reserved bits such as 0x02) as a plain message, where grpc-go refuses them (found by an HTTP/2 trial).
  let unknownFlags: number | undefined;
  const stopReading = () => {
    req.off("data", onData);
    req.off("end", finishReading);
  };
  const giveUp = () => {
    stopReading();
    req.pause();
    handOver(chunks);
  };
  const onData = (chunk: Buffer) => {
    chunks.push(chunk);
    length += chunk.length;
    if (wire.enveloped && expected === undefined && length >= envelopeHeaderBytes) {
      const head = chunks.length === 1 ? chunk : Buffer.concat(chunks);
      const declared = head.readUInt32BE(1);
      compressed = head[0] === 1 && compression.request !== null;
      // A message over the limit, or a compressed one without an encoding: connect-es's to refuse.
      if (declared > options.readMaxBytes) return giveUp();
      if ((head[0]! & ~1) !== 0) unknownFlags = head[0];
      else if (head[0] !== 0 && !compressed) return giveUp();
      expected = envelopeHeaderBytes + declared;
    }
    if (length > (expected ?? envelopeHeaderBytes + options.readMaxBytes)) giveUp();
  };
  const finishReading = () => {
    stopReading();
    if (wire.enveloped ? length !== expected : length > options.readMaxBytes) return handOver(chunks);
    if (unknownFlags !== undefined) {
      const refused = new ConnectError(`protocol error: a request envelope's flags must be 0 or 1, not ${unknownFlags}`, Code.InvalidArgument);
      return void answer(wire, method, refused, req, res, contextValues, timeout.timeoutMs, compression.response, options.logger);
    }
    const bytes = Buffer.concat(chunks, length).subarray(wire.enveloped ? envelopeHeaderBytes : 0);
    if (!compressed) return decodeAndAnswer(bytes);
    // A body that does not decompress within the limit is connect-es's to refuse, with its own words.
    compression.request!.decompress(bytes, options.readMaxBytes).then(decodeAndAnswer, () => handOver(chunks));
  };
  const decodeAndAnswer = (bytes: Uint8Array) => {
    let input;
    try {
      input = wire.codec.decode(method.spec.method.input, bytes);
    } catch (error) {
      input = error as ConnectError;
    }
    if (input === undefined) return handOver(chunks);
    // A deadline of 0 (`grpc-timeout: 0n`) has passed on arrival: the client has given up, so nothing may change.
    if (timeout.timeoutMs !== undefined && timeout.timeoutMs <= 0) {
      input = new ConnectError("the call's deadline had passed when it arrived", Code.DeadlineExceeded);
    }
    void answer(wire, method, input, req, res, contextValues, timeout.timeoutMs, compression.response, options.logger);
  };
  req.on("data", onData);
  req.once("end", finishReading);
  return true;
}

/** Runs the call and answers it; a refused message (a ConnectError for its input) is answered without running. */
async function answer(
  wire: Wire,
  method: UnaryMethod,
  input: MessageShape<DescMessage> | ConnectError,
  req: NodeRequest,
  res: NodeResponse,
  contextValues: ContextValues,
  timeoutMs: number | undefined,
  responseCompression: Compression | null,
  logger: Pick<Logger, "error">,
): Promise<void> {
  const requestContext = contextValues.get(requestContextKey);
  const call = new UnaryCall({
    protocolName: wire.protocolName,
    requestMethod: "POST",
    timeoutMs,
    url: () => `http://${req.headers[":authority"] ?? req.headers.host ?? ""}${req.url}`,
    // The headers the call's context holds (call-context.ts), not a second copy.
    requestHeader: () => requestContext?.headers ?? nodeHeaders(req),
    responseHeader: wire.responseHeader,
    responseTrailer: wire.responseTrailer,
    values: contextValues,
    res,
  });
  if (responseCompression && wire.enveloped) call.responseHeader.set(grpc.headerEncoding, responseCompression.name);
  let outcome: Outcome;
  try {
    if (input instanceof ConnectError) {
      // Refused before the interceptors, which note every other call's code for the access log.
      noteCall(req, { code: codeName(input.code) });
      throw input;
    }
    const output = await method.invoke(call, input);
    outcome = { output: encodedAnswer(wire.codec, method.spec.method, output, req, logger) };
  } catch (error) {
    outcome = { error: error instanceof ConnectError ? error : new ConnectError("internal error", Code.Internal, undefined, undefined, error) };
  } finally {
    call.end();
  }
  if (res.destroyed) return;
  await wire.answer(res, call, outcome, responseCompression);
}

/**
 * The answer's bytes, encoded once the interceptors noted the call as a success. An answer that cannot be (proto3 JSON
 * has no Timestamp past year 9999) is this call's internal error all the same: noted for its access line, logged
 * with its request id, answered as the interceptors answer a fault.
 */
function encodedAnswer(
  codec: Codec,
  method: UnaryMethodSpec["method"],
  output: MessageShape<DescMessage>,
  req: NodeRequest,
  logger: Pick<Logger, "error">,
): Uint8Array {
  try {
    return codec.encode(method.output, output);
  } catch (error) {
    const requestId = callOf(req)?.requestId ?? "";
    noteCall(req, { code: codeName(Code.Internal) });
    logger.error("answer could not be encoded", { requestId, method: method.name, error });
    throw internalError(requestId);
  }
}

/** Framed at once unless it is to be compressed: envelopeCompress is an async function, a promise for every answer. */
function envelope(flags: number, data: Uint8Array, compression: Compression | null): Uint8Array | Promise<Uint8Array> {
  if (!compression || data.byteLength < compressMinBytes) return encodeEnvelope(flags, data);
  return envelopeCompress({ flags, data }, compression, compressMinBytes).then((compressed) =>
    encodeEnvelope(compressed.flags, compressed.data),
  );
}

function headerValue(value: string | string[] | undefined): string | null {
  return typeof value === "string" ? value : null;
}
