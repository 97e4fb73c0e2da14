// Request bodies sent with a Content-Encoding (RFC 9110 §8.4): gzip, deflate and br are undone, identity is nothing.
import { promisify } from "node:util";
import zlib from "node:zlib";
import { Code, ConnectError } from "@connectrpc/connect";

type Decode = (body: Uint8Array, options: { maxOutputLength: number }) => Promise<Buffer>;

const decoders = new Map<string, Decode>([
  ["gzip", promisify(zlib.gunzip)],
  // RFC 9110 §8.4.1.3: a recipient should treat x-gzip as gzip.
  ["x-gzip", promisify(zlib.gunzip)],
  ["deflate", promisify(zlib.inflate)],
  ["br", promisify(zlib.brotliDecompress)],
]);

/** The codings named by a Content-Encoding header, in the order they were applied, lower-cased. */
function contentCodings(header: string | undefined): string[] {
  return (header ?? "")
    .split(",")
    .map((coding) => coding.trim().toLowerCase())
    .filter((coding) => coding !== "" && coding !== "identity");
}

/** The first coding this server cannot undo, or undefined when it can undo them all. */
export function unsupportedContentCoding(header: string | undefined): string | undefined {
  return contentCodings(header).find((coding) => !decoders.has(coding));
}

/**
 * Undoes the codings, the last applied first. Resolves with undefined as soon as a decoded body would exceed
 * `maxBytes`, so that a small compressed body cannot inflate to whatever it likes; rejects with InvalidArgument
 * when a body is not what its coding says. Call unsupportedContentCoding first.
 */
export async function decodeContent(body: Uint8Array, header: string | undefined, maxBytes: number): Promise<Uint8Array | undefined> {
  let decoded = body;
  // An empty body stays empty whatever its label: there is nothing to decode.
  if (decoded.byteLength === 0) return decoded;
  for (const coding of contentCodings(header).reverse()) {
    try {
      decoded = await decoders.get(coding)!(decoded, { maxOutputLength: maxBytes });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ERR_BUFFER_TOO_LARGE") return undefined;
      throw new ConnectError(`request body is not valid ${coding}: ${(error as Error).message}`, Code.InvalidArgument);
    }
  }
  return decoded;
}
