// Request bodies still arriving are held in memory by whatever reads them, up to --max-body-bytes each. A client that
// opens many calls and never finishes their bodies (100 HTTP/2 streams on each of its connections, each just under
// the limit) could so make the process hold gigabytes. This bounds the bytes of unfinished bodies: in all, and per
// client address to its share of the connections (--max-connections-per-client of --max-connections), never less
// than one whole body. A call whose bytes would go beyond either is cut off: its HTTP/2 stream reset with
// ENHANCE_YOUR_CALM, or its HTTP/1.1 connection closed, since half a body leaves nothing to answer on it.
import http2 from "node:http2";
import type { NodeHandler, NodeRequest } from "./call-context.js";
import type { ClientAddressResolver } from "./client-address.js";
import { clientKeyOf, clientShare, createClientBudget } from "./listener-per-client-limit.js";

export interface BodiesInTransitLimits {
  /** Bytes of unfinished request bodies, all calls together. */
  maxBytes: number;
  /** The largest one body may be: each client may always have one that large in transit. */
  maxBodyBytes: number;
  maxConnections: number;
  maxConnectionsPerClient: number;
}

export function limitBodiesInTransit(handler: NodeHandler, clientOf: ClientAddressResolver, limits: BodiesInTransitLimits): NodeHandler {
  const budget = createClientBudget(limits.maxBytes, clientShare(limits.maxBytes, limits.maxBodyBytes, limits));

  return (req, res) => {
    const client = clientKeyOf(clientOf(req) ?? "");
    let held = 0;
    let cut = false;
    const release = () => {
      budget.release(client, held);
      held = 0;
    };
    // Every byte of the body passes through push, whoever reads it and whenever: counted there, the handler's
    // readers keep the stream's own semantics (a listener for "data" would set it flowing before they attach).
    const push = req.push;
    req.push = (chunk: unknown, encoding?: BufferEncoding) => {
      if (cut) return false;
      if (chunk === null) release();
      else {
        const bytes = (chunk as Uint8Array).byteLength;
        if (!budget.take(client, bytes)) {
          release();
          cut = true;
          cutOff(req);
          return false;
        }
        held += bytes;
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
