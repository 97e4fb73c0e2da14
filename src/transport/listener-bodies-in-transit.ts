// Request bodies still arriving are held in memory by whatever reads them, up to --max-body-bytes each. A client that
// opens many calls and never finishes their bodies (100 HTTP/2 streams on each of its connections, each just under
// the limit) could so make the process hold gigabytes. This bounds the bytes of unfinished bodies: in all, and per
// client address to its share of the connections (--max-connections-per-client of --max-connections), never less
// than one whole body. A call whose bytes would go beyond either is cut off: its HTTP/2 stream reset with
// ENHANCE_YOUR_CALM, or its HTTP/1.1 connection closed, since half a body leaves nothing to answer on it.
import http2 from "node:http2";
import type { NodeHandler, NodeRequest } from "./call-context.js";
import { clientAddressOf } from "./listener-per-client-limit.js";

export interface BodiesInTransitLimits {
  /** Bytes of unfinished request bodies, all calls together. */
  maxBytes: number;
  /** The largest one body may be: each client may always have one that large in transit. */
  maxBodyBytes: number;
  maxConnections: number;
  maxConnectionsPerClient: number;
}

export function limitBodiesInTransit(handler: NodeHandler, limits: BodiesInTransitLimits): NodeHandler {
  const share = Math.min(1, limits.maxConnectionsPerClient / limits.maxConnections);
  const maxPerClient = Math.max(limits.maxBodyBytes, Math.floor(limits.maxBytes * share));
  const heldByClient = new Map<string, number>();
  let heldInAll = 0;

  const hold = (client: string, bytes: number) => {
    heldInAll += bytes;
    const held = (heldByClient.get(client) ?? 0) + bytes;
    if (held === 0) heldByClient.delete(client);
    else heldByClient.set(client, held);
  };

  return (req, res) => {
    const client = clientAddressOf(req.socket.remoteAddress ?? "");
    let held = 0;
    let cut = false;
    const release = () => {
      hold(client, -held);
      held = 0;
    };
    const admits = (bytes: number) =>
      heldInAll + bytes <= limits.maxBytes && (heldByClient.get(client) ?? 0) + bytes <= maxPerClient;
    // Every byte of the body passes through push, whoever reads it and whenever: counted there, the handler's
    // readers keep the stream's own semantics (a listener for "data" would set it flowing before they attach).
    const push = req.push;
    req.push = (chunk: unknown, encoding?: BufferEncoding) => {
      if (cut) return false;
      if (chunk === null) release();
      else {
        const bytes = (chunk as Uint8Array).byteLength;
        if (!admits(bytes)) {
          release();
          cut = true;
          cutOff(req);
          return false;
        }
        held += bytes;
        hold(client, bytes);
      }
      return push.call(req, chunk, encoding);
    };
    req.once("close", release);
    handler(req, res);
  };
}

function cutOff(req: NodeRequest): void {
  if (req instanceof http2.Http2ServerRequest) req.stream.close(http2.constants.NGHTTP2_ENHANCE_YOUR_CALM);
  else req.socket.destroy();
}
