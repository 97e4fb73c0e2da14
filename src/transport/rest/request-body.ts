// Reads a request body up to a limit, so that one oversized request cannot claim the process's memory.
import type { Readable } from "node:stream";
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
