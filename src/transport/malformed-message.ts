// A request message that is not valid protobuf is the client's mistake: InvalidArgument on every protocol, as the
// same mistake in JSON already is (and as connect-go answers both). connect-es reports it as Internal ("parse
// binary: ..."), and raises it inside its own request pipeline, before any interceptor runs for a unary call, so
// the first place it can be corrected is the response, in the one spot each protocol keeps its status.
// A message over the limit is corrected there too, in its words only: connect-es names its own option ("configured
// readMaxBytes 65536"), which no operator set or can find, where the setting is --max-body-bytes. Connect's streaming
// protocol, which carries its status in a JSON end-of-stream message, keeps connect-es's words.
import { Code, ConnectError } from "@connectrpc/connect";
import { type UniversalServerResponse, createAsyncIterable, encodeEnvelope } from "@connectrpc/connect/protocol";
import { codeToHttpStatus, errorFromJsonBytes, errorToJsonBytes } from "@connectrpc/connect/protocol-connect";
import { headerGrpcMessage, headerGrpcStatus } from "@connectrpc/connect/protocol-grpc";
import { trailerFlag, trailerParse, trailerSerialize } from "@connectrpc/connect/protocol-grpc-web";
import { grpcMessageValue } from "./grpc-status-trailer.js";

interface Status {
  code: Code;
  message: string;
}

const readMaxBytesOption = /configured readMaxBytes (\d+)/;

/** The status connect-es should have answered, or undefined when it is right as it is. */
function corrected(code: Code, message: string): Status | undefined {
  if (code === Code.Internal && message.startsWith("parse binary: ")) return { code: Code.InvalidArgument, message };
  const named = message.replace(readMaxBytesOption, "--max-body-bytes ($1)");
  return named === message ? undefined : { code, message: named };
}

/** The HTTP statuses of Connect's unary error answers that may need correcting. */
const correctableConnectStatuses = new Set([codeToHttpStatus(Code.Internal), codeToHttpStatus(Code.ResourceExhausted)]);

export async function correctMalformedMessage(response: UniversalServerResponse): Promise<UniversalServerResponse> {
  const contentType = response.header?.get("content-type") ?? "";
  const { body, trailer } = response;
  if (body === undefined) return response;
  if (contentType.startsWith("application/grpc-web")) return { ...response, body: correctTrailerFrames(body) };
  if (contentType.startsWith("application/grpc") && trailer) return { ...response, body: correctingAtEnd(body, trailer) };
  // Only Connect's unary error bodies are JSON, and a 500 or 429 is rare enough to read in full here.
  if (correctableConnectStatuses.has(response.status) && contentType === "application/json" && !response.header?.has("content-encoding")) {
    return correctConnectError(response, body);
  }
  return response;
}

/** Corrects a grpc-status and grpc-message in place; true when it did. */
function correctStatusFields(fields: Headers): boolean {
  const message = decodeURIComponent(fields.get(headerGrpcMessage) ?? "");
  const status = corrected(Number(fields.get(headerGrpcStatus)), message);
  if (!status) return false;
  fields.set(headerGrpcStatus, String(status.code));
  if (status.message !== message) fields.set(headerGrpcMessage, grpcMessageValue(status.message));
  return true;
}

/** gRPC sends its trailers after the body, so they are final once the body is. */
async function* correctingAtEnd(body: AsyncIterable<Uint8Array>, trailer: Headers): AsyncIterable<Uint8Array> {
  yield* body;
  correctStatusFields(trailer);
}

/** gRPC-Web's status is in the trailer frame, the last chunk: connect-es yields each frame as one chunk. */
async function* correctTrailerFrames(body: AsyncIterable<Uint8Array>): AsyncIterable<Uint8Array> {
  for await (const chunk of body) {
    if (chunk[0] !== trailerFlag) {
      yield chunk;
      continue;
    }
    const fields = trailerParse(chunk.subarray(5));
    yield correctStatusFields(fields) ? encodeEnvelope(trailerFlag, trailerSerialize(fields)) : chunk;
  }
}

async function correctConnectError(
  response: UniversalServerResponse,
  body: AsyncIterable<Uint8Array>,
): Promise<UniversalServerResponse> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of body) chunks.push(chunk);
  const bytes = Buffer.concat(chunks);
  const error = errorFromJsonBytes(bytes, undefined, new ConnectError("", Code.Unknown));
  const status = corrected(error.code, error.rawMessage);
  if (!status) return { ...response, body: createAsyncIterable([bytes]) };
  const json = errorToJsonBytes(new ConnectError(status.message, status.code), undefined);
  const header = new Headers(response.header);
  header.set("content-length", String(json.byteLength));
  return { ...response, status: codeToHttpStatus(status.code), header, body: createAsyncIterable([json]) };
}
