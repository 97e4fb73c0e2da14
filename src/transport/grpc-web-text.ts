// gRPC-Web's text mode (application/grpc-web-text[+proto]), the default of Google's grpc-web client for browsers:
// the same frames as binary gRPC-Web, in base64 both ways. connect-es refuses it, so the request is handed to
// connect-es as binary gRPC-Web and the response is turned back into text (grpc/grpc doc/PROTOCOL-WEB.md).
import { Code, ConnectError } from "@connectrpc/connect";
import type { UniversalServerRequest, UniversalServerResponse } from "@connectrpc/connect/protocol";

const textMediaType = /^application\/grpc-web-text(?=$|\+|;)/i;
const binaryMediaType = /^application\/grpc-web(?=$|\+|;)/i;

export function isGrpcWebText(contentType: string | null): boolean {
  return contentType !== null && textMediaType.test(contentType);
}

/** The request as binary gRPC-Web, its body decoded from base64 as it arrives. */
export function fromGrpcWebText(request: UniversalServerRequest): UniversalServerRequest {
  const header = new Headers(request.header);
  header.set("content-type", (header.get("content-type") ?? "").replace(textMediaType, "application/grpc-web"));
  // The decoded body is shorter.
  header.delete("content-length");
  return { ...request, header, body: decodeBase64(byteStream(request.body)) };
}

/** A binary gRPC-Web response as text; anything else (a 415, a 405) is left as it is. */
export function toGrpcWebText(response: UniversalServerResponse): UniversalServerResponse {
  const contentType = response.header?.get("content-type") ?? "";
  if (!binaryMediaType.test(contentType) || response.body === undefined) return response;
  const header = new Headers(response.header);
  header.set("content-type", contentType.replace(binaryMediaType, "application/grpc-web-text"));
  header.delete("content-length");
  return { ...response, header, body: encodeBase64(response.body) };
}

function byteStream(body: UniversalServerRequest["body"]): AsyncIterable<Uint8Array> {
  if (typeof body === "object" && body !== null && Symbol.asyncIterator in body) return body;
  throw new ConnectError("gRPC-Web text needs the request body as a byte stream", Code.Internal);
}

// Whole 4-character quanta, each possibly padded: a body may be padded segments laid end to end.
const base64Quanta = /^(?:[A-Za-z0-9+/]{4}|[A-Za-z0-9+/]{3}=|[A-Za-z0-9+/]{2}==)*$/;

async function* decodeBase64(body: AsyncIterable<Uint8Array>): AsyncIterable<Uint8Array> {
  let pending = "";
  for await (const chunk of body) {
    pending += Buffer.from(chunk).toString("latin1");
    const complete = pending.length - (pending.length % 4);
    if (complete === 0) continue;
    yield decodeQuanta(pending.slice(0, complete));
    pending = pending.slice(complete);
  }
  if (pending !== "") throw invalidBase64();
}

function decodeQuanta(text: string): Uint8Array {
  if (!base64Quanta.test(text)) throw invalidBase64();
  // Node's decoder stops at the first padding, so each padded segment is decoded on its own.
  return Buffer.concat(text.split(/(?<==)(?!=)/).map((segment) => Buffer.from(segment, "base64")));
}

function invalidBase64(): ConnectError {
  return new ConnectError("the application/grpc-web-text request body is not base64", Code.InvalidArgument);
}

/**
 * connect-es yields each frame as one chunk. Each is encoded on its own, padded, so a streamed message leaves as
 * soon as it is ready: carrying odd bytes over to the next chunk would hold back the end of a message until the
 * next one, which on Health/Watch may be never. The protocol allows padding wherever the server flushes.
 */
async function* encodeBase64(body: AsyncIterable<Uint8Array>): AsyncIterable<Uint8Array> {
  for await (const chunk of body) yield Buffer.from(Buffer.from(chunk).toString("base64"), "latin1");
}
