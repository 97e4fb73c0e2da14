// gRPC's third standard message compression (its spec names identity, gzip and deflate), beside connect-node's gzip
// and br: grpcio and grpc-java offer it, and a client that chose it was answered Unimplemented on every call (found by
// a Python client's trial). "deflate" is zlib's format (RFC 1950), as gRPC's own implementations write it.
import { promisify } from "node:util";
import zlib from "node:zlib";
import { Code, ConnectError } from "@connectrpc/connect";
import type { Compression } from "@connectrpc/connect/protocol";

const deflate = promisify(zlib.deflate);
const inflate = promisify(zlib.inflate);

export const compressionDeflate: Compression = {
  name: "deflate",
  compress: (bytes) => deflate(bytes),
  async decompress(bytes, readMaxBytes) {
    if (bytes.byteLength === 0) return new Uint8Array(0);
    try {
      return await inflate(bytes, { maxOutputLength: readMaxBytes });
    } catch (error) {
      // The words connect-node gives the same failures of gzip and br.
      if ((error as NodeJS.ErrnoException).code === "ERR_BUFFER_TOO_LARGE") {
        throw new ConnectError(`message is larger than configured readMaxBytes ${readMaxBytes} after decompression`, Code.ResourceExhausted);
      }
      throw new ConnectError("decompression failed", Code.InvalidArgument);
    }
  },
};
