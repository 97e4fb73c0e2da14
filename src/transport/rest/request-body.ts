// Reads a request body up to a limit, so that one oversized request cannot claim the process's memory.
import type { Readable } from "node:stream";
import type { NodeRequest } from "../call-context.js";
import { Code, ConnectError } from "@connectrpc/connect";

/**
 * Resolves with the body, or with undefined as soon as it is known to exceed `maxBytes`: at once when the declared
 * Content-Length does, else when the bytes read do.
 */
export function readBodyWithin(
  req: Readable,
  contentLength: string | undefined,
  maxBytes: number,
): Promise<Uint8Array | undefined> {
  if (Number(contentLength) > maxBytes) return Promise.resolve(undefined);

  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.byteLength;
      if (size <= maxBytes) {
        chunks.push(chunk);
        return;
      }
      stopListening();
      // Stop the upload here rather than read and discard the rest of it.
      req.pause();
      resolve(undefined);
    };
    const onEnd = () => {
      stopListening();
      resolve(Buffer.concat(chunks));
    };
    const onError = (error: Error) => {
      stopListening();
      reject(error);
    };
    const onClose = () => {
      stopListening();
      reject(new ConnectError("the client closed the request before sending all of its body", Code.Canceled));
    };
    const stopListening = () => {
      req.off("data", onData);
      req.off("end", onEnd);
      req.off("error", onError);
      req.off("close", onClose);
    };
    req.on("data", onData);
    req.on("end", onEnd);
    req.on("error", onError);
    req.on("close", onClose);
  });
}

/** How much of a body over the limit is read and dropped after the answer, rather than cut off with the connection. */
const drainableBytes = 16 * 1024 * 1024;

/**
 * The headers of the answer to a body over the limit. Over HTTP/1.1, a client that writes its whole request before it
 * reads the answer (Python's http.client, a shell's curl) sees its connection reset instead of the 413 when the server
 * closes with much of the body unread (RFC 9112 §9.6). So a body that declares up to 16 MiB is read and dropped after
 * the answer (Node does that on a kept-alive connection), and the connection serves on; a longer one, or one of
 * unknown length, is cut off with the connection.
 */
export function headersAfterOversizedBody(req: NodeRequest): Record<string, string> {
  if (req.httpVersionMajor !== 1) return {};
  return Number(req.headers["content-length"]) <= drainableBytes ? {} : { connection: "close" };
}
