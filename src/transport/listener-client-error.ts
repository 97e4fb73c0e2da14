// Installing a 'clientError' listener turns off Node's own answer to a malformed HTTP/1.1 request,
// so this gives the same answers (400, 408, 413, 431) and always destroys the socket.
import { STATUS_CODES } from "node:http";
import type net from "node:net";
import type { Duplex } from "node:stream";

/** server: an http.Server, or the TLS server with allowHTTP1. */
export function answerClientErrors(server: net.Server, report: (error: Error) => void): void {
  server.on("clientError", (error: NodeJS.ErrnoException, socket: Duplex) => {
    report(error);
    answer(error, socket);
  });
}

function answer(error: NodeJS.ErrnoException, socket: Duplex): void {
  const status = statusFor(error.code);
  if (status !== undefined && socket.writable && !responseStarted(socket)) {
    socket.write(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nConnection: close\r\n\r\n`);
  }
  socket.destroy();
}

function statusFor(code: string | undefined): number | undefined {
  switch (code) {
    case "HPE_HEADER_OVERFLOW":
      return 431;
    case "HPE_CHUNK_EXTENSIONS_OVERFLOW":
      return 413;
    case "ERR_HTTP_REQUEST_TIMEOUT":
      return 408;
    default:
      // Other parser errors are malformed requests. Anything else (ECONNRESET, a failed TLS
      // handshake) leaves no HTTP peer to answer.
      return code?.startsWith("HPE_") ? 400 : undefined;
  }
}

// A status line written into a response already on the wire would corrupt it.
function responseStarted(socket: Duplex): boolean {
  const response = (socket as { _httpMessage?: { headersSent: boolean } })._httpMessage;
  return response?.headersSent === true;
}
