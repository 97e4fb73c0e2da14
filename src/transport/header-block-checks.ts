// Refusals read off the request's header block before anything acts on it:
// - Two Host or two Authorization headers: 400. Node keeps the first of each and drops the rest, where a proxy in
//   front may have read the last, so the two would disagree on which server is asked, or who asks. RFC 9112 §3.2
//   asks for 400 for the first.
// - Over HTTP/2, a Host header that names another server than :authority: 400, as RFC 9113 §8.3.1 asks. The host
//   check reads :authority, where something in front may go by Host.
// - Over HTTP/2, a header block larger than --max-header-bytes: 431, as Node's HTTP/1.1 server answers by itself.
//   Its HTTP/2 server only tells clients the limit (SETTINGS_MAX_HEADER_LIST_SIZE) and takes what they send.
import { Code, ConnectError } from "@connectrpc/connect";
import { noteCall } from "../call-scope.js";
import type { NodeRequest, NodeResponse } from "./call-context.js";
import { answerError, discardUpload } from "./error-answer.js";

/** Answers and returns true when the request's headers are refused. */
export function createHeaderBlockChecks(maxHeaderBytes: number): (req: NodeRequest, res: NodeResponse) => boolean {
  return (req, res) => {
    const raw = req.rawHeaders;
    let hosts = 0;
    let host: string | undefined;
    let authority: string | undefined;
    let authorizations = 0;
    // HPACK's measure of a header list (RFC 7541 §4.1): each field's name and value, and 32 bytes.
    let size = 0;
    for (let i = 0; i < raw.length; i += 2) {
      const name = raw[i]!;
      size += name.length + raw[i + 1]!.length + 32;
      if (name.length === 4 && name.toLowerCase() === "host") {
        hosts++;
        host = raw[i + 1];
      } else if (name === ":authority") authority = raw[i + 1];
      else if (name.length === 13 && name.toLowerCase() === "authorization") authorizations++;
    }
    if (hosts > 1 || authorizations > 1) {
      const repeated = hosts > 1 ? "Host" : "Authorization";
      answerError(req, res, new ConnectError(`the request has more than one ${repeated} header`, Code.InvalidArgument));
      return true;
    }
    if (host !== undefined && authority !== undefined && host.toLowerCase() !== authority.toLowerCase()) {
      answerError(req, res, new ConnectError("the request's Host header names another server than its :authority", Code.InvalidArgument));
      return true;
    }
    if (req.httpVersionMajor === 2 && size > maxHeaderBytes) {
      noteCall(req, { code: "resource_exhausted" });
      discardUpload(req);
      res.writeHead(431, { "content-type": "text/plain; charset=utf-8" });
      res.end(`request header block larger than ${maxHeaderBytes} bytes\n`);
      return true;
    }
    return false;
  };
}
