// Node's HTTP/1.1 close() drops only idle keep-alive connections: one busy at that moment would stay
// open after its response until keepAliveTimeout. Asking such responses to close their connection
// lets a graceful close finish as soon as the requests do.
import http from "node:http";
import type { NodeHandler } from "./call-context.js";

export interface Http1Drain {
  /** Wraps the listener's handler to keep track of HTTP/1.1 responses in flight. */
  handler: NodeHandler;
  /** Makes every HTTP/1.1 response in flight or still to come the last one on its connection. */
  drain(): void;
}

export function trackHttp1Responses(handler: NodeHandler): Http1Drain {
  const inFlight = new Set<http.ServerResponse>();
  let draining = false;
  return {
    handler: (req, res) => {
      if (res instanceof http.ServerResponse) {
        if (draining) lastOnConnection(res);
        inFlight.add(res);
        res.once("close", () => inFlight.delete(res));
      }
      handler(req, res);
    },
    drain: () => {
      draining = true;
      inFlight.forEach(lastOnConnection);
    },
  };
}

// A response whose headers are out can no longer say so; the grace period deals with it.
function lastOnConnection(res: http.ServerResponse): void {
  if (!res.headersSent) res.setHeader("connection", "close");
}
